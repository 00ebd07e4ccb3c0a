"""Signatures on card versions: OpenSSF model signing over a version's folder.

A version is signed by the person (or pipeline) who made it: every file of its folder is
hashed into a manifest, and the manifest is signed, with an elliptic-curve private key or
with a key and its X.509 certificate chain. The Sigstore bundle is `card.sig` inside the
folder, so the library's own CLI checks a version:

    model_signing verify key FOLDER --signature FOLDER/card.sig --public_key PUB.pem
    model_signing verify certificate FOLDER --signature FOLDER/card.sig \\
        --certificate_chain ROOT.pem

A signer's identity is `key:<hex>` for a bare key (the SHA-256 of its PEM public key,
which the bundle names too) or the certificate's e-mail address, else its subject.
Keyless Sigstore signing (OIDC, a transparency log) needs a network and is not used.
`model_signing` is imported only when a signature is made or checked.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import pathlib
import re
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from mct_component import constants, files
from mct_component.errors import ParameterError, SignatureError
from mct_component.text import shorten

SIGNATURE_FILE = constants.SIGNATURE_FILE
MAX_PEM_BYTES = 64 * 1024
MAX_SIGNATURE_BYTES = 1024 * 1024
KEY_PREFIX = "key:"
# A component's key parameter may name an environment variable instead of a file.
ENV_PREFIX = "env:"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """A private key (and optionally its certificate and chain) that signs versions."""

    private_key: str  # PEM file
    certificate: str | None = None
    chain: tuple[str, ...] = ()
    identity: str = ""  # filled by `load_signing_key`
    public_key_pem: bytes = b""


@dataclasses.dataclass(frozen=True)
class Verified:
    """A signature that holds: who signed, and the certificate's subject if any."""

    identity: str
    by_certificate: bool


def key_identity(public_key_pem: bytes) -> str:
    """The identity of a bare public key: `key:` and the SHA-256 of its PEM form."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_key_pem)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KEY_PREFIX + hashlib.sha256(pem).hexdigest()


def load_signing_key(
    private_key: str, certificate: str | None = None, chain: Sequence[str] = ()
) -> SigningKey:
    """Reads and checks a signing key (a P-256/P-384/P-521 EC key in PEM).

    Raises:
        ParameterError: a file is missing, not PEM, not an EC private key, or the
            certificate is not the key's.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = files.read_setting(private_key, MAX_PEM_BYTES, "--signing-key", ParameterError)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise ParameterError(
            f"--signing-key {private_key!r} is not an unencrypted PEM private key: {_reason(e)}"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ParameterError(
            f"--signing-key {private_key!r} must be an elliptic-curve key (e.g. "
            "`openssl ecparam -name prime256v1 -genkey -noout`), got "
            f"{type(key).__name__.lstrip('_')}"
        )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if certificate is None:
        if chain:
            raise ParameterError("--certificate-chain needs --signing-certificate")
        return SigningKey(private_key, None, (), key_identity(public_pem), public_pem)
    try:
        leaf = x509.load_pem_x509_certificate(
            files.read_setting(certificate, MAX_PEM_BYTES, "--signing-certificate", ParameterError)
        )
        for path in chain:
            x509.load_pem_x509_certificates(
                files.read_setting(path, MAX_PEM_BYTES, "--certificate-chain", ParameterError)
            )
    except ValueError as e:
        raise ParameterError(f"a certificate is not PEM X.509: {_reason(e)}") from None
    if leaf.public_key() != key.public_key():
        raise ParameterError(
            f"--signing-certificate {certificate!r} is not the certificate of --signing-key "
            f"{private_key!r} (their public keys differ)"
        )
    return SigningKey(
        private_key, certificate, tuple(chain), certificate_identity(leaf), public_pem
    )


def optional_key(
    key: str | None, certificate: str | None = None, chain: Sequence[str] = ()
) -> SigningKey | None:
    """The signing key a command or a console was given (`--signing-key`, optionally
    with `--signing-certificate` and `--certificate-chain`), or None when none was.

    Raises:
        ParameterError: a certificate without a key, or a key or certificate that is
            missing or wrong.
    """
    if not key and (certificate or chain):
        raise ParameterError("--signing-certificate needs --signing-key (its private key)")
    return load_signing_key(key, certificate, tuple(chain)) if key else None


def check_key_source(value: Any, name: str, what: str = "a PEM file") -> str:
    """A component's file parameter (a key, a certificate, a policy): `what`'s path, or
    `env:NAME`, an environment variable holding its text or path (e.g. a mounted
    Kubernetes secret).

    Raises:
        ParameterError: naming the parameter and what was expected.
    """
    if not isinstance(value, str) or not value:
        raise ParameterError(
            f"{name} must be {what}'s path or 'env:NAME' (an environment variable "
            f"holding it or its path), got {value!r}"
        )
    if value.startswith(ENV_PREFIX) and not _ENV_NAME.fullmatch(value[len(ENV_PREFIX) :]):
        raise ParameterError(
            f"{name} {value!r} must name an environment variable, e.g. 'env:CARD_SIGNING_KEY'"
        )
    return value


@contextlib.contextmanager
def key_from_sources(
    private_key: str, certificate: str = "", chain: Sequence[str] = ()
) -> Iterator[SigningKey]:
    """`load_signing_key` over key sources (`check_key_source`): PEM text from the
    environment lives in a private temporary file only while the key is in use.

    Raises:
        ParameterError: a variable that is unset, or a key `load_signing_key` refuses.
    """
    with contextlib.ExitStack() as stack:
        key_path = stack.enter_context(_source_file(private_key, "signing_key"))
        certificate_path = (
            stack.enter_context(_source_file(certificate, "signing_certificate"))
            if certificate
            else None
        )
        chain_paths = [stack.enter_context(_source_file(c, "certificate_chain")) for c in chain]
        yield load_signing_key(key_path, certificate_path, chain_paths)


@contextlib.contextmanager
def _source_file(source: str, name: str) -> Iterator[str]:
    if not source.startswith(ENV_PREFIX):
        yield source
        return
    variable = source[len(ENV_PREFIX) :]
    value = os.environ.get(variable, "")
    if not value:
        raise ParameterError(f"{name} {source!r}: the environment variable {variable} is not set")
    if not value.lstrip().startswith("-----BEGIN"):
        yield value  # a path
        return
    with tempfile.TemporaryDirectory(prefix="mct-key-") as folder:  # mode 0700
        path = os.path.join(folder, "key.pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii", errors="replace") as f:
            f.write(value)
        yield path


def certificate_identity(certificate: Any) -> str:
    """A certificate's identity: its first e-mail address (SAN, else subject), else its
    subject as an RFC 4514 string."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    with contextlib.suppress(x509.ExtensionNotFound):
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        emails = names.value.get_values_for_type(x509.RFC822Name)
        if emails:
            return str(emails[0])
    emails = certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    if emails:
        return str(emails[0].value)
    return str(certificate.subject.rfc4514_string())


def load_library() -> None:
    """Imports the signing library now (about 5 s), so that a server's first change or
    verification does not pay for it while someone waits."""
    from model_signing import hashing, signing, verifying  # noqa: F401


def sign(folder: str, key: SigningKey) -> str:
    """Signs every file of `folder` into `folder/card.sig`; returns the bundle's SHA-256.

    Raises:
        SignatureError: the library could not sign.
    """
    from model_signing import hashing, signing

    config = signing.Config()
    try:
        if key.certificate:
            config.use_certificate_signer(
                private_key=key.private_key,
                signing_certificate=key.certificate,
                certificate_chain=list(key.chain),
            )
        else:
            config.use_elliptic_key_signer(private_key=key.private_key)
        config.set_hashing_config(_hashing(hashing, folder))
        config.sign(folder, os.path.join(folder, SIGNATURE_FILE))
    except (ValueError, OSError) as e:
        raise SignatureError(f"cannot sign {folder!r}: {_reason(e)}") from None
    return bundle_digest(folder)


def bundle_digest(folder: str) -> str:
    """The SHA-256 of a version's `card.sig` ("" when it has none)."""
    path = os.path.join(folder, SIGNATURE_FILE)
    if not os.path.lexists(path):
        return ""
    return hashlib.sha256(files.read_bytes(path, MAX_SIGNATURE_BYTES)).hexdigest()


def signed_by(folder: str) -> tuple[str, bool]:
    """Who the bundle says signed (the key's `key:` hint, or the leaf certificate's
    identity) and whether by certificate; not yet checked.

    Raises:
        SignatureError: no bundle, or not a bundle this module can read.
    """
    from cryptography import x509

    bundle = _read_bundle(folder)
    material = bundle.get("verificationMaterial")
    if not isinstance(material, dict):
        raise SignatureError("card.sig has no verification material")
    hint = (material.get("publicKey") or {}).get("hint")
    if isinstance(hint, str) and hint:
        return KEY_PREFIX + hint, False
    chain = (material.get("x509CertificateChain") or {}).get("certificates")
    try:
        first = chain[0]["rawBytes"]  # type: ignore[index]
        leaf = x509.load_der_x509_certificate(base64.b64decode(first))
    except (TypeError, KeyError, IndexError, ValueError):
        raise SignatureError("card.sig names neither a public key nor a certificate") from None
    return certificate_identity(leaf), True


def verify(
    folder: str, public_keys: Sequence[bytes] = (), trust_roots: Sequence[str] = ()
) -> Verified:
    """Checks `folder/card.sig` against the folder's files.

    A key-signed bundle must be by one of `public_keys` (PEM); a certificate-signed one
    must chain to one of `trust_roots` (PEM files).

    Raises:
        SignatureError: no signature, an unknown signer, or one that does not verify
            (a file changed, added or removed; a bundle swapped or corrupt).
    """
    from model_signing import hashing, verifying

    identity, by_certificate = signed_by(folder)
    config = verifying.Config()
    with _key_file(identity, public_keys, by_certificate) as public_key:
        try:
            if by_certificate:
                if not trust_roots:
                    raise SignatureError(
                        f"signed by certificate {identity!r}, but no trusted root "
                        "certificate was given (the policy's trust_roots)"
                    )
                config.use_certificate_verifier(certificate_chain=list(trust_roots))
            else:
                config.use_elliptic_key_verifier(public_key=public_key)
            config.set_hashing_config(_hashing(hashing, folder))
            config.verify(folder, os.path.join(folder, SIGNATURE_FILE))
        except SignatureError:
            raise
        except Exception as e:  # the library raises ValueError, OpenSSL and JSON errors
            raise SignatureError(f"the signature does not verify: {_reason(e)}") from None
    return Verified(identity, by_certificate)


def _hashing(hashing: Any, folder: str) -> Any:
    return hashing.Config().set_ignored_paths(
        paths=[pathlib.Path(folder) / SIGNATURE_FILE], ignore_git_paths=False
    )


@contextlib.contextmanager
def _key_file(identity: str, public_keys: Sequence[bytes], by_certificate: bool) -> Iterator[str]:
    """The PEM file of the public key that `identity` names, for the library's verifier."""
    if by_certificate:
        yield ""
        return
    matching = [pem for pem in public_keys if _identity_or_none(pem) == identity]
    if not matching:
        raise SignatureError(f"signed by {short_identity(identity)}, a key nobody vouched for")
    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as f:
        f.write(matching[0])
        f.flush()
        yield f.name


def _identity_or_none(pem: bytes) -> str | None:
    try:
        return key_identity(pem)
    except (ValueError, TypeError):
        return None


def short_identity(identity: str) -> str:
    """An identity as people read it: a key's fingerprint cut to 16 hex digits."""
    if identity.startswith(KEY_PREFIX):
        return identity[: len(KEY_PREFIX) + 16]
    return identity


def _read_bundle(folder: str) -> dict[str, Any]:
    path = os.path.join(folder, SIGNATURE_FILE)
    if not os.path.lexists(path):
        raise SignatureError("no signature (card.sig is missing)")
    if os.path.islink(path) or not os.path.isfile(path):
        raise SignatureError("card.sig is not a regular file")
    try:
        bundle = json.loads(files.read_bytes(path, MAX_SIGNATURE_BYTES))
    except (ValueError, RecursionError):
        raise SignatureError("card.sig is not a Sigstore bundle (not JSON)") from None
    except Exception as e:  # too large, unreadable
        raise SignatureError(f"card.sig cannot be read: {_reason(e)}") from None
    if not isinstance(bundle, dict):
        raise SignatureError("card.sig is not a Sigstore bundle (not a JSON object)")
    return bundle


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return shorten(" ".join(text.split()), 200)
