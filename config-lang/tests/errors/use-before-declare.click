// use-before-declare.click -- an element referenced before its declaration.
// Declarations must precede uses.  Click: "undeclared element 'sink'" at the
// first use; the name then counts as a class, so the later declaration also
// fails with "class 'sink' used as element name".

src :: InfiniteSource(LIMIT 10);
src -> Counter -> sink;
sink :: Discard;
