// bad-port.click -- a port number that is not an integer.
// Click: "syntax error: port number should be integer" (the port is then
// treated as 0 and parsing continues).

cls :: Classifier(12/0800, -);
Idle -> cls;
cls [x] -> Discard;
cls [1] -> Discard;
