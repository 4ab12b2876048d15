"""The four-level manifest verifier: L1 syntax, L2 API validity, L3 security policy, L4 context.

Python API::

    from kubedistill.verify import Verifier, VerifyConfig
    results = Verifier(VerifyConfig(policy="restricted")).verify_text(manifest_text)
    ok = all(r.passed for r in results)
"""

from kubedistill.verify.engine import Verifier, VerifyConfig, verify_paths
from kubedistill.verify.finding import DocumentResult, Finding, Issue, Severity, Status

__all__ = ["DocumentResult", "Finding", "Issue", "Severity", "Status", "Verifier", "VerifyConfig", "verify_paths"]
