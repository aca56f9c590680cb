// variable-as-element.click -- a $variable where an element is expected.
// Variables are substituted only inside configuration strings (and define
// values), never in element or class positions.  Click reports
// "syntax error near 'x'" for the variable token (it prints the name without
// the '$').

define($x Counter);
Idle -> $x -> Discard;
