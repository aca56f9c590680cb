// bad-define.click -- define() names must be $variables.
// Click: "bad 'define' declaration: not a variable".

define(LIMIT 10);
InfiniteSource(LIMIT 10) -> Discard;
