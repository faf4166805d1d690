"""The offline dependency audit: the project's pins against the shipped PyPA advisory snapshot."""
from __future__ import annotations

from security.dependency_audit import affects, audit, load_snapshot, main, read_pins


def test_the_project_pins_have_no_open_advisory(capsys):
    assert main([]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "pins checked against" in out and "VULNERABLE" not in out


def test_known_vulnerable_pins_are_found(tmp_path, capsys):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("urllib3==1.26.4\nrequests[socks]==2.19.0  # old\nflask==3.1.2\n")
    assert read_pins(reqs) == {"urllib3": "1.26.4", "requests": "2.19.0", "flask": "3.1.2"}
    assert main(["--requirements", str(reqs)]) == 1
    out = capsys.readouterr().out
    assert "CVE-2021-33503" in out  # urllib3 ReDoS in URL authority parsing, fixed in 1.26.5
    assert "CVE-2018-18074" in out  # requests kept Authorization across https -> http redirects
    findings = audit(read_pins(reqs), load_snapshot()["advisories"])
    assert not [f for f in findings if f.package == "flask"]


def test_osv_range_rules():
    entry = {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"},
                                                          {"introduced": "2.0"}, {"last_affected": "2.1.3"}]}],
             "versions": ["0.9-weird"]}
    assert affects(entry, "1.1.9") and not affects(entry, "1.2") and not affects(entry, "1.9")
    assert affects(entry, "2.0") and affects(entry, "2.1.3") and not affects(entry, "2.1.4")
    assert affects(entry, "0.9-weird")  # listed explicitly
    git_only = {"ranges": [{"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]}
    assert not affects(git_only, "1.0")


def test_urllib3_stays_on_1_26_only_for_the_browser_tests():
    """urllib3 is pinned to 1.26 because dash[testing] pins selenium<=4.2.0, whose metadata asks for
    urllib3~=1.26; every other installed distribution takes urllib3 2.x (issue 11, item 11). When
    dash lifts the pin this test fails: move urllib3 to 2.x then."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.version import Version

    from security.dependency_audit import REQUIREMENTS, read_pins

    pinned = Version(read_pins(REQUIREMENTS)["urllib3"])
    if pinned.major >= 2:
        return
    holders = {}
    for dist in metadata.distributions():
        for text in dist.requires or []:
            req = Requirement(text)
            if req.name.lower() == "urllib3" and not req.specifier.contains("2.5.0"):
                holders[dist.metadata["Name"].lower()] = str(req.specifier)
    assert holders == {"selenium": "~=1.26"}, holders
    dash_testing = [Requirement(r) for r in metadata.requires("dash") or [] if r.startswith("selenium")]
    assert dash_testing and not dash_testing[0].specifier.contains("4.3.0"), dash_testing  # selenium<=4.2.0
