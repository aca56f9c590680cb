// missing-arrow-target.click -- a connection whose final arrow has no target.
// Error: the ';' after the last '->' (Click: "syntax error near ';'").

src :: InfiniteSource(LIMIT 10);
cnt :: Counter;

src -> cnt -> ;

Idle -> Discard;
