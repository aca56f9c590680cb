// many-to-many-arrow.click -- a parallel connection written with '->'.
// Several output ports connected to several elements need '=>'.
// Click: "syntax error: many-to-many connections require '=>'".

cls :: Classifier(12/0800, 12/0806);
Idle -> cls;
cls [0, 1] -> Discard, Discard;
