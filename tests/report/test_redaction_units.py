"""The redaction's rules one at a time, each with the case on either side of its edge, where the
mutation score (tools/mutation.py, group ``redaction``) found that no test told a right answer from
a wrong one. The redactor is the product's own, given names explicitly (a machine's real names are
what tests/report/test_redaction_plants.py and test_redaction_wrong_cases.py plant)."""

from __future__ import annotations

import getpass
import socket

import pytest

from paddledoctor.redaction import (REDACTED, Redactor, host_label, random_looking, redact, scrub,
                                    secret_name)

# 16 distinct characters, each twice: exactly 4.0 bits per character, the threshold itself.
AT_THE_THRESHOLD = "ABCDabcd01234567" * 2


def redactor(**names) -> Redactor:
    return Redactor(**{"hostnames": set(), "users": set(), "homes": set(), "cwds": set(), **names})


@pytest.mark.parametrize("name, secret", [
    ("HF_TOKEN", True), ("BCE_SK", True), ("PADDLE_HDFS_UGI", True), ("hadoop.job.ugi", True),
    ("MY_API_KEY", True), ("PWD", False), ("OLDPWD", False), ("PADDLE_PSERVERS_IP_PORT_LIST", False),
    ("TASK_ID", False),   # "SK" inside a word is no word
    ("PATH", False), ("CUDA_VISIBLE_DEVICES", False), ("pwd", False),
])
def test_secret_names(name, secret):
    assert secret_name(name) is secret


def test_host_label_is_six_stable_hex_digits_per_host():
    label = host_label("node7.cluster.example.com")
    assert label == host_label("node7.cluster.example.com") != host_label("node8.cluster.example.com")
    assert label.startswith("host-") and len(label) == len("host-") + 6
    int(label[5:], 16)


@pytest.mark.parametrize("token, random", [
    (AT_THE_THRESHOLD, True),                  # 32 characters at 4.0 bits: taken
    (AT_THE_THRESHOLD[:31], False),            # one short
    (AT_THE_THRESHOLD[:31] + "=", False),      # padding is not length
    ("ABCDabcd01234567" + "ABCDabcd0123456A", False),  # 32 characters under 4.0 bits
    ("abcdefghijklmnop0123456789abcdef", False),   # no upper case
    ("ABCDEFGHIJKLMNOP0123456789ABCDEF", False),   # no lower case
    ("ABCDEFGHIJKLMNOPabcdefghijklmnop", False),   # no digit
    ("Aa1" * 11, False),                       # long, mixed, but 1.6 bits
])
def test_random_looking_at_its_edges(token, random):
    assert random_looking(token) is random


def test_a_random_string_is_replaced_in_text_and_path_pieces_are_judged_alone():
    r = redactor(identity=False)
    assert r.text(f"key {AT_THE_THRESHOLD} end") == "key <redacted random string> end"
    assert r.text(f"/data/{AT_THE_THRESHOLD}/model.pdparams") == "/data/<redacted random string>/model.pdparams"
    assert r.hits == {"random-looking strings": 2}
    gpu = "GPU-1A2b3C4d-5E6f-7A8b-9C0d-1E2f3A4b5C6d"
    assert redactor(identity=False).text(gpu) == gpu  # a GPU UUID is identity, not a secret


def test_the_working_directory_needs_two_levels_and_the_longest_path_wins():
    r = redactor(homes={"/home/al"}, cwds={"/tmp", "/home/al/proj", "/"})
    assert r.text("/home/al/proj/x /home/al/y /tmp/z /etc/hosts") == "<cwd>/x ~/y /tmp/z /etc/hosts"
    assert r.hits == {"working directory": 1, "home folder": 1}
    assert redactor(cwds={"/srv/job"}).text("/srv/job") == "<cwd>"
    assert redactor(homes={"/"}).text("/usr/lib") == "/usr/lib"
    assert redactor(homes={"/u/"}).text("/u/x") == "~/x"  # a home of one letter is still a home


def test_a_path_is_replaced_only_as_a_whole_folder():
    r = redactor(homes={"/home/al"})
    assert r.text("/home/al /home/al/x /home/alice /home/al.bak") == "~ ~/x /home/alice /home/al.bak"


def test_names_of_three_letters_or_more_in_any_case_but_not_inside_a_word():
    r = redactor(users={"bob", "al"}, hostnames={"node7", "node7.cluster.example.com"})
    out = r.text("bob BOB_DATA bob-laptop bobcat al node7.cluster.example.com node7 node77")
    assert out == "<user> <user>_DATA <user>-laptop bobcat al <host> <host> node77"
    assert r.hits == {"user name": 3, "host name": 2}


def test_names_that_are_placeholders_or_the_documents_own_words_are_not_names():
    r = redactor(users={"root", "paddle"}, hostnames={"localhost"})
    r.learn({"paddle": {"version": "3.0"}})
    assert r.text("root cause: paddle on localhost") == "root cause: paddle on localhost"
    assert r.hits == {}


def test_a_gpu_keeps_its_placeholder_and_a_prefix_met_first_gets_its_uuids():
    a = "GPU-1a2b3c4d-0000-1111-2222-333344445555"
    b = "GPU-9f8e7d6c-0000-1111-2222-333344445555"
    r = redactor()
    doc = scrub({"visible": "GPU-9f8e7d6c", "gpus": [{"uuid": a}, {"uuid": b}], "again": a}, r)
    assert doc == {"visible": "GPU-<redacted-2>", "gpus": [{"uuid": "GPU-<redacted-1>"},
                                                           {"uuid": "GPU-<redacted-2>"}],
                   "again": "GPU-<redacted-1>"}
    assert r.hits == {"GPU UUIDs/serials": 4}  # learning them first counted nothing
    alone = redactor()  # without learning, a prefix met first is a GPU of its own
    assert alone.value(["GPU-9f8e7d6c", b]) == ["GPU-<redacted-1>", "GPU-<redacted-2>"]


def test_learn_numbers_the_full_uuids_in_document_order():
    a = "GPU-1a2b3c4d-0000-1111-2222-333344445555"
    b = "GPU-9f8e7d6c-0000-1111-2222-333344445555"
    r = redactor()
    r.learn({"gpus": [a, b]})
    assert r.text("GPU-9f8e7d6c") == "GPU-<redacted-2>"
    assert r.hits == {"GPU UUIDs/serials": 1}


def test_a_serial_is_replaced_by_its_key_only_with_identity():
    assert redactor().value({"serial": "1320220012345"}) == {"serial": "GPU-<redacted-1>"}
    assert redactor().value({"serial": ""}) == {"serial": ""}
    assert redactor(identity=False).value({"serial": "1320220012345"}) == {"serial": "1320220012345"}


def test_addresses_get_stable_placeholders_loopback_and_any_stay():
    r = redactor()
    out = r.text("tcp://10.1.2.3:6170 10.1.2.4:80 tcp://10.1.2.3:1 127.0.0.1:8 0.0.0.0:9 [fe80::1%eth0]:7")
    assert out == "tcp://<ip-2>:6170 <ip-3>:80 tcp://<ip-2>:1 127.0.0.1:8 0.0.0.0:9 [<ip-1>]:7"
    assert r.hits == {"IP addresses": 4}
    assert r.address("not-an-address") == "not-an-address"


def test_an_address_without_a_port_is_a_version_in_text_and_an_address_under_an_endpoint_key():
    assert redactor().text("cuDNN 9.1.0.70") == "cuDNN 9.1.0.70"
    r = redactor()
    assert r.value({"POD_IP": "10.0.0.9", "PADDLE_TRAINER_ENDPOINTS": "10.0.0.9,10.0.0.8",
                    "version": "10.0.0.9"}) == {"POD_IP": "<ip-1>", "PADDLE_TRAINER_ENDPOINTS": "<ip-1>,<ip-2>",
                                                "version": "10.0.0.9"}


def test_environment_values_by_their_names_keys_kept():
    r = redactor(identity=False)
    doc = {"env": {"HF_TOKEN": "abc", "PATH": "/usr/bin", "nested": {"MY_PASSWORD": "pw"}},
           "AWS_SECRET_KEY": "xyz", "token_count": "12", "done": REDACTED, "n": 3}
    assert r.value(doc) == {"env": {"HF_TOKEN": REDACTED, "PATH": "/usr/bin", "nested": {"MY_PASSWORD": REDACTED}},
                            "AWS_SECRET_KEY": REDACTED, "token_count": "12", "done": REDACTED, "n": 3}
    assert r.hits == {"secret environment values": 3}


def test_only_environment_variables_are_judged_by_their_name():
    # a report's own key is no variable name: its value is judged by its shape, not its key's words
    assert redactor(identity=False).value({"auth_mode": "kerberos", "cookie_jar": "none"}) == {
        "auth_mode": "kerberos", "cookie_jar": "none"}


def test_a_secret_assignment_in_text_and_its_count():
    r = redactor(identity=False)
    assert r.text("run --x=1 PADDLE_HDFS_UGI=user,pw;A=B") == f"run --x=1 PADDLE_HDFS_UGI={REDACTED};A=B"
    assert r.hits == {"secret values in text": 1}


def test_token_counts_per_class_and_none_counted_at_zero():
    r = redactor(identity=False)
    token = "hf_" + "a1B2" * 6
    assert r.text(f"a {token} b {token}") == "a <redacted huggingface token> b <redacted huggingface token>"
    assert r.text("https://u:p@h.example/x") == f"https://{REDACTED}@h.example/x"
    assert r.hits == {"huggingface tokens": 2, "URL credentials": 1}


def test_identity_off_keeps_names_and_says_its_scope():
    r = redactor(users={"alice"}, identity=False)
    assert r.text("alice") == "alice"
    assert r.record() == {"redacted": True, "scope": "secrets", "removed": {}}
    assert redactor(identity=True).record()["scope"] == "identity and secrets"


def test_record_lists_the_classes_sorted():
    r = redactor(users={"alice"})
    r.text("alice ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")
    assert list(r.record()["removed"]) == ["github tokens", "user name"]


def test_this_machines_names_are_known(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    r = Redactor.for_this_machine()
    host = socket.gethostname()
    assert host in r.hostnames and host.split(".")[0] in r.hostnames
    assert getpass.getuser() in r.users
    assert str(tmp_path) in r.cwds or str(tmp_path.resolve()) in r.cwds
    assert r.identity and not Redactor.for_this_machine(identity=False).identity


def test_scrub_is_secrets_only_and_redact_records_identity(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    here = str(tmp_path / "x")
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    doc = {"path": here, "error": token}
    assert scrub(doc) == {"path": here, "error": "<redacted github token>"}
    out = redact(doc)
    assert out["path"] == "<cwd>/x" and out["error"] == "<redacted github token>"
    assert out["redaction"]["scope"] == "identity and secrets" and "redaction" not in doc
