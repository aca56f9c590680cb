// compound-missing-brace.click -- an elementclass body without its '}'.
// Everything after the body is parsed as part of the compound.  The first
// error is therefore the use of "Shaped" itself, which is not a class yet
// inside its own unfinished definition ("undeclared element 'Shaped'");
// end-of-file then yields "expected '}'".

elementclass Shaped {
    $rate |
    input -> Queue(64) -> BandwidthShaper($rate) -> output;

src :: InfiniteSource(LIMIT 5);
src -> Shaped(1Mbps) -> Unqueue -> Discard;
