// undeclared-class.click -- a declaration naming a class that does not exist.
// Click's lexer knows every element class, so it reports
// "unknown element class 'Frobnicator'" while parsing.  (Our parser accepts
// any identifier as a class name and checks it against the element
// registry afterwards; the position to report is the same.)

src :: InfiniteSource(LIMIT 10);
f :: Frobnicator(3, MODE fast);
src -> f -> Discard;
