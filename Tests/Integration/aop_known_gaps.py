"""Features aop does not implement yet, by marker or test id, with the reason.

When AOP_TEST_TARGET=aop, every test carrying one of these markers (or whose node id
contains one of these keys) is marked xfail(strict=True): it must fail, and the suite
goes red the moment it starts passing so the entry gets removed. Nothing is ever skipped.
Keep this list short and honest; it is empty when aop implements everything tested.
"""

# marker name or node-id substring -> reason naming the missing feature
KNOWN_GAPS: dict[str, str] = {
}
