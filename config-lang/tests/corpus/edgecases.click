// edgecases.click -- valid but unusual Click syntax, one construct per stanza.
// Everything here is accepted by Click 2.1 (kohler/click master); the one
// post-ClickOS feature, the port range "[0-2]", is marked where it is used.
// Not included because Click rejects it: referring to an element before its
// declaration ("undeclared element"), and '#' comments (a '#' at the start
// of a line is a line directive, anywhere else it is a syntax error).

require(compact_config);        // the only requirement every driver accepts

/* a block comment
   spanning several lines, containing -> arrows, :: colons, "quotes" and
   (parentheses) that mean nothing here */

// several names declared in one statement share class and configuration
sink_a, sink_b, sink_c :: Discard;
q1, q2 :: Queue(16);

// no semicolons at all, two statements on one line
idle1 :: Idle idle2 :: Idle
idle1 -> sink_a idle2 -> sink_b

// identifiers may contain '/' and '@' (and may start with a digit or '@')
edge/in :: Counter;
edge/out/0b :: Counter;
tap@7 :: Counter;
2nd_stage :: Null;
@probe :: Null;
InfiniteSource(LIMIT 1) -> edge/in -> edge/out/0b -> tap@7 -> 2nd_stage -> @probe -> sink_c;

// a user-chosen name that looks like an anonymous one; the anonymous
// Counters of the "rs" stanza further down are renamed around it
// (they become Counter@39, Counter@41, Counter@42)
Counter@40 :: Counter;
Idle -> Counter@40 -> Discard;

// comments and quotes inside configuration strings
Idle
  -> Print(/* a ) in a comment does not close the string */ "label, with (commas)", // eol
           24)
  -> Print('single quotes: ")" and , are literal', -1)
  -> Print("juxtaposed "'strings'" are "concatenated)
  -> Print("\$NOT_A_VARIABLE \"escaped\" \x41\101", MAXLENGTH 0)
  -> Discard;

// hex data with spaces and a comment inside \< >, trailing empty argument
InfiniteSource(DATA \<45 00 00 1c /* ip */ 00 00 40 00
                      40 11 b7 cf 0a 00 00 01 0a 00 00 02>, LIMIT 2, )
    -> Counter()
    -> Discard;

// a chain spread over many lines, arrows at either end of a line,
// ports on both sides of elements
cls :: Classifier(12/0800, 12/0806, -)
Idle ->
    cls;
cls [0]
    -> [0] pt :: PaintTee(5) [1]
    -> q1;
pt [0] -> q2;
cls [1] -> sink_a;
cls [2] -> sink_b;
q1 -> Unqueue -> sink_c;
q2 -> Unqueue -> sink_c;

// duplicate connections are silently merged
dupsrc :: Idle;
dupsrc -> sink_a;
dupsrc -> sink_a;

// many-to-one and one-to-many
m1, m2 :: Idle;
m1, m2 -> Counter -> sink_a;
t :: Tee(3);
Idle -> t;
t => sink_a, sink_b, sink_c;

// many-to-many with a port list, an expandable port list and (Click 2.1
// only, newer than ClickOS) a port range
rs :: RoundRobinSwitch;
Idle -> rs;
rs [0, 1, 2] => Counter, Counter, Counter -> sink_a;
rr :: RoundRobinSwitch;
Idle -> rr;
rr [] => sink_a, sink_b;
hs :: HashSwitch(0, 4);
Idle -> hs;
hs [0-2] => sink_a, sink_b, sink_c;

// (element groups `( ... )` live in tests/unsupported/groups.click until ClickOS-rs supports them)

// empty compound as a join point, inline parameterised compound
join :: {->};
Idle -> join;
Idle -> join;
join -> { $c | input -> Paint($c) -> output }(9) -> sink_c;

// a variable used before its definition (all defines of a scope take effect
// together), a default for an undefined variable, braces to delimit a name
Idle -> Print("${LATE}r ${UNSET-fallback}", 0) -> sink_c;
define($LATE later);

// element class synonym
elementclass Drop Discard;
Idle -> Drop;

// line directives: the line after "# 99 ..." is reported as other.click:99;
// "#line 200" without a file name keeps the current file name
# 99 "other.click"
Idle -> Drop;
#line 200
Idle -> Drop;
