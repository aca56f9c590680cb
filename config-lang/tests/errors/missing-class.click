// missing-class.click -- '::' not followed by a class.
// Click: "missing element type in declaration".

src :: InfiniteSource(LIMIT 10);
sink :: ;
src -> sink;
