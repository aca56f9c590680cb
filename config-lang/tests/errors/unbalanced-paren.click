// unbalanced-paren.click -- a configuration string that never closes.
// The Classifier's '(' has no matching ')', so the configuration string runs
// to end-of-file and Click reports "expected ')'" there.

src :: InfiniteSource(LIMIT 10);
cls :: Classifier(12/0800, 12/0806, -;
src -> cls;
cls[0] -> Discard;
cls[1] -> Discard;
cls[2] -> Discard;
