// unterminated-comment.click -- a block comment that is never closed.
// The comment swallows the rest of the file, so the connection that was
// started before it ends at end-of-file.  Click reports
// "syntax error near ''" on the line after the last line; a better
// diagnostic is "unterminated comment" at the opening "/*".

src :: InfiniteSource(LIMIT 10);
src -> Counter ->   /* TODO: decide between a Queue and a plain Discard
                       before this goes to production
Discard;
