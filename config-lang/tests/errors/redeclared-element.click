// redeclared-element.click -- the same element name declared twice.
// Click: "redeclaration of element 'cnt'" at the second declaration, plus a
// note "element 'cnt' previously declared here" pointing at the first.

cnt :: Counter;
src :: InfiniteSource(LIMIT 1);
src -> cnt -> Discard;
cnt :: Counter;
