// hash-comment.click -- shell-style comments are not Click comments.
// A '#' at the start of a line introduces a line directive; anything other
// than a line number after it is "unknown preprocessor directive".

# forward everything to the sink
Idle -> Discard;
