// unterminated-string.click -- a double-quoted string with no closing quote.
// The quote hides the ')' and everything after it, so the configuration
// string runs to end-of-file: Click reports "expected ')'" there.

src :: InfiniteSource(LIMIT 3);
src -> Print("first packet) -> Discard;
Idle -> Discard;
