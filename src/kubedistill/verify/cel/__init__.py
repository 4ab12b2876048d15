"""CEL, the Common Expression Language, as Kubernetes evaluates it in CRD ``x-kubernetes-validations`` rules.

    from kubedistill.verify.cel import Program
    Program("self.minReplicas <= self.maxReplicas").evaluate({"minReplicas": 1, "maxReplicas": 3})  # True

Our own evaluator rather than a package from PyPI: the pure-Python ``cel-python`` took about 10 ms for two
typical gateway-api rules (the verifier's budget for a whole document is well under 1 ms), and neither it nor the
Rust or C++ bindings (``common-expression-language``, ``cel-expr-python``) offers the Kubernetes libraries
(ip, cidr, url, quantity, format, semver, lists, regex) or the API server's escaping of property names such as
``namespace``, so each would have needed most of this code anyway. The modules:

    parser.py      source text -> AST (macros expanded)
    program.py     AST -> closures; evaluation with CEL's error absorption in && and ||
    macros.py      all, exists, exists_one, map, filter and the two-variable comprehensions
    values.py      uint, duration, timestamp, optional; equality, ordering and arithmetic with CEL's rules
    functions.py   the function registry and the standard library
    extensions.py  strings, sets and optional (cel-go), lists and regex (Kubernetes)
    network.py     the Kubernetes ip, cidr and url libraries
    kubernetes.py  the Kubernetes quantity, format and semver libraries
"""

from kubedistill.verify.cel.program import Program, unescape
from kubedistill.verify.cel.values import CelError, CelSyntaxError, NoSuchOverload, Unsupported

__all__ = ["CelError", "CelSyntaxError", "NoSuchOverload", "Program", "Unsupported", "unescape"]
