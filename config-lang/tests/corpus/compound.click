// compound.click -- a traffic lab built almost entirely from compound
// elements.  Exercises: elementclass with positional and keyword formals,
// __REST__, overloading with `||`, extension with `...`, nested element
// classes with lexically scoped parameters, inline `{ ... }` compounds
// (named, anonymous and parameterised), implicit input/output inside
// compounds, element-class synonyms, shadowing a built-in class, `define`
// at file and compound scope, and `$var`, `${var}`, `${var-default}` and
// `${var[N]}` substitution.

define($PKT_LIMIT 2000, $LAB lab1);
define($SIZES 64 512 1500);          // a space-separated list, indexed below

// ---------------------------------------------------------------- sources
// positional + mandatory keyword formal + everything else
elementclass Source {
    $data, LIMIT $limit, __REST__ $rest |
    InfiniteSource(DATA $data, LIMIT $limit, $rest) -> output;
}

// a class synonym
elementclass Sink Discard;

// ---------------------------------------------------------------- pacing
// overloaded on argument count
elementclass Pace {
    $rate |
        input -> Queue -> RatedUnqueue($rate) -> output;
||  $rate, $cap |
        input -> Queue($cap) -> RatedUnqueue($rate) -> output;
||  input -> Queue -> Unqueue -> output;
}

// a later extension: a keyword variant, falling back to the three above
elementclass Pace {
    $rate, $cap, BURST $burst |
        input -> Queue($cap) -> RatedUnqueue($rate, BURST_SIZE $burst) -> output;
||  ...
}

// overloaded on port count: one output passes through, two outputs duplicate
elementclass Fork {
    input -> output;
||  input -> t :: Tee(2);
    t[0] -> [0]output;
    t[1] -> [1]output;
}

// ---------------------------------------------------------------- nested classes
elementclass Monitored {
    $name |
    // Tap can see $name: compound scopes nest lexically
    elementclass Tap {
        $where | input -> Print("$name/$where", 0, ACTIVE false) -> output
    }
    define($avg_ignore 1);
    input -> Tap(in)
          -> cnt :: Counter
          -> avg :: AverageCounter($avg_ignore)
          -> Tap(out)
          -> output;
}

// implicit `input`/`output`: "[1] ->" starts at input 1, "-> [1]" ends at output 1
elementclass Crossover {
    [0] -> Paint(10) -> [1];
    [1] -> Paint(11) -> [0];
}

// a shadowing definition: inside its own body `Counter` still means the
// built-in class, afterwards `Counter` means this compound
elementclass Counter {
    input -> real :: Counter -> Paint(${COLOR-42}) -> output;
}

// ---------------------------------------------------------------- the lab
src_small :: Source(\<00 01 02 03>, LIMIT $PKT_LIMIT, LENGTH ${SIZES[0]}, BURST 2);
src_big   :: Source("$LAB payload", LIMIT $PKT_LIMIT, LENGTH ${SIZES[2]});
src_idle  :: Source(x, LIMIT 0, ACTIVE false);

src_small -> Pace(1000) -> m1 :: Monitored(small) -> f :: Fork;
src_big   -> Pace(500, 64) -> m2 :: Monitored(big) -> xo :: Crossover;
src_idle  -> Pace(10, 16, BURST 4) -> Pace -> [1]xo;

f[0] -> Counter -> Sink;
f[1] -> { input -> Paint(3) -> output } -> Sink;

xo[0] -> join :: { -> };
xo[1] -> join;
join -> { $tag | input -> Print($tag, 0, ACTIVE false) -> output }(joined)
     -> Sink;
