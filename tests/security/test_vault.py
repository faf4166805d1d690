"""Secrets at rest: MultiFernet encryption, versions for provider-key rotation, and encryption-key
rotation while the app serves requests."""
from __future__ import annotations

import threading
import time

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from data.models import Event, SecretRecord
from security.signatures import slack_signature
from security.vault import Vault, VaultError, fingerprint, parse_keys


def _rows(db):
    with db.session() as s:
        return {r.name: r.ciphertext for r in s.execute(select(SecretRecord)).scalars()}


def test_values_are_encrypted_and_versions_rotate(services):
    key = Fernet.generate_key()
    vault = Vault(services.db, lambda: [key])
    vault.put("provider:openweathermap", "owm-key-1")
    assert b"owm-key-1" not in _rows(services.db)["provider:openweathermap"]
    vault.add_version("provider:openweathermap", "owm-key-2")
    assert vault.get("provider:openweathermap") == "owm-key-2"
    assert vault.versions("provider:openweathermap") == ["owm-key-2", "owm-key-1"]
    assert vault.retire_version("provider:openweathermap", fingerprint("owm-key-1"))
    assert vault.versions("provider:openweathermap") == ["owm-key-2"]
    listed = vault.list()
    assert listed[0].name == "provider:openweathermap" and listed[0].fingerprints == (fingerprint("owm-key-2"),)
    with services.db.session() as s:
        kinds = [e.kind for e in s.execute(select(Event).order_by(Event.id)).scalars()]
        payloads = " ".join(str(e.payload) for e in s.execute(select(Event)).scalars())
    assert kinds == ["secret.set", "secret.version_added", "secret.version_retired"]
    assert "owm-key" not in payloads  # fingerprints only
    with pytest.raises(VaultError):
        Vault(services.db, lambda: [Fernet.generate_key()]).get("provider:openweathermap")


def test_bad_keys_are_named():
    with pytest.raises(VaultError, match="key #2"):
        parse_keys(Fernet.generate_key().decode() + ",not-a-key")


def test_instance_key_file_is_generated_once(settings, services):
    from security.vault import key_source

    load = key_source(settings)
    first = load()
    assert load() == first and (settings.instance_dir / "encryption_keys").stat().st_mode & 0o777 == 0o600


def test_rotate_keys_cli_with_instance_file(dash_app, services):
    from security.vault import key_source

    vault = Vault(services.db, key_source(services.settings))  # another server process: old key only
    vault.put("webhook:slack", "slack-secret")
    old = parse_keys((services.settings.instance_dir / "encryption_keys").read_text())
    runner = dash_app.server.test_cli_runner()
    result = runner.invoke(args=["rotate-keys", "--generate"])
    assert result.exit_code == 0, result.output
    new = parse_keys((services.settings.instance_dir / "encryption_keys").read_text())
    assert new[1:] == old and new[0] != old[0]
    # the running vault (loaded with the old key only) re-reads the file when a ciphertext needs the new key
    assert vault._keys == old
    assert vault.get("webhook:slack") == "slack-secret" and vault._keys == new
    result = runner.invoke(args=["rotate-keys", "--retire"])
    assert result.exit_code == 0 and "retired 1 old key" in result.output
    with pytest.raises(InvalidToken):
        Fernet(old[0]).decrypt(_rows(services.db)["webhook:slack"])
    assert vault.get("webhook:slack") == "slack-secret"


def test_rotation_while_serving_requests(dash_app, services):
    """Threads post signed Slack webhooks (the secret is decrypted on every request) while
    ``flask rotate-keys`` re-encrypts every secret; no request fails, the old key opens nothing."""
    old, new = Fernet.generate_key(), Fernet.generate_key()
    Vault(services.db, lambda: [old]).put("webhook:slack", "rotating-signing-secret")
    seeding = Vault(services.db, lambda: [old])
    for i in range(150):
        seeding.put(f"provider:test-{i:03d}", f"value-{i}")
    # step 1 of the procedure: servers reload with [new, old]
    services.vault = Vault(services.db, lambda: [new, old])
    statuses: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    rotating = threading.Event()
    during = [0]

    def hammer(worker: int) -> None:
        client = dash_app.server.test_client()
        n = 0
        while not stop.is_set():
            n += 1
            body = f"worker={worker}&n={n}".encode()
            ts = str(int(time.time()))
            try:
                r = client.post("/api/v1/webhooks/slack", data=body, headers={
                    "X-Slack-Request-Timestamp": ts, "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Signature": slack_signature("rotating-signing-secret", ts, body)})
                statuses.append(r.status_code)
                if rotating.is_set():
                    during[0] += 1
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    rotating.set()
    result = dash_app.server.test_cli_runner().invoke(args=["rotate-keys"])
    rotating.clear()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert result.exit_code == 0, result.output
    assert "re-encrypted 151 secret(s)" in result.output
    assert not errors and statuses and set(statuses) == {200}, (errors[:3], set(statuses))
    assert during[0] > 0, "no request overlapped the rotation"
    rows = _rows(services.db)
    for token in rows.values():
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(token)
        assert Fernet(new).decrypt(token)
    # step 3: drop the old key; everything still opens
    assert Vault(services.db, lambda: [new]).get("webhook:slack") == "rotating-signing-secret"
    print(f"\nrotation: {len(statuses)} webhook requests, {during[0]} during rotate-keys, all 200; "
          f"{len(rows)} secrets re-encrypted")
