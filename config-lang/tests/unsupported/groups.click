// groups.click — an anonymous element group (Click 2.1, 2016). ClickOS-rs does not support
// groups yet: it must say so clearly, at the opening parenthesis.
sink_b :: Discard;
Idle -> ethsw :: Classifier(12/0806, -) => (
    [0] -> Paint(1) -> [0];
    [1] -> [0]
) -> sink_b;
