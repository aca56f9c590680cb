// two-errors.click -- two independent syntax errors on different lines.
// Click reports both: "syntax error near '->'" on the doubled arrow, then
// "syntax error: port number should be integer" on the bad port.

src :: InfiniteSource(LIMIT 10);
cls :: Classifier(12/0800, -);
src -> -> cls;

cls[0] -> Discard;

// second, unrelated mistake
cls[one] -> Discard;
