// compound-port-gap.click -- a compound that uses input 0 and input 2 but
// not input 1.  Reported when the compound is closed, at the compound's
// landmark (the line of the first token after '{'):
// "'Merge' input 1 missing".

elementclass Merge {
    input[0] -> output;
    input[2] -> output;
}
Idle -> m :: Merge -> Discard;
Idle -> [2]m;
