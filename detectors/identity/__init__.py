"""Identity kinds (issue 13): each principal is an agent, a human, automation (CI, infrastructure-as-code),
an AWS service or unknown. The engine resolves the kind of every key from its events and runs each detector
only on the kinds it ``judges``. Not a detector family: nothing here is registered in the catalog."""

from detectors.identity.identities_file import IdentitiesFile, IdentityFileError, load_identities
from detectors.identity.resolver import DEFAULT_RESOLVER, IdentityResolver, Resolution

__all__ = [
    "DEFAULT_RESOLVER",
    "IdentitiesFile",
    "IdentityFileError",
    "IdentityResolver",
    "Resolution",
    "load_identities",
]
