// broken.click — two mistakes, both reported in one run.
in :: FromNetfront(0);
in -> Strip(14) -> ;
in [x] -> Discard;
