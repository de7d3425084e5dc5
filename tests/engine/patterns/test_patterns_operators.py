"""Each EventBridge operator, with the documentation's examples and edge cases.

Every case is checked both through the one-off ``matches`` and through a compiled
``RuleMatcher``, so the two paths cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.patterns import RuleMatcher, matches

EC2_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "data": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
        "file": "photo.PNG",
        "empty": "",
        "nothing": None,
        "flag": True,
        "nested": {"c1": 100},
        "tags": [],
    },
}


def check(pattern: dict[str, Any], event: dict[str, Any] = EC2_EVENT) -> bool:
    """Match both ways and insist they agree."""
    direct = matches(pattern, event)
    matcher = RuleMatcher()
    matcher.add("rule", pattern)
    matcher.add("never", {"source": ["no-such-source"]})
    assert (matcher.match(event) == ["rule"]) is direct
    return direct


def data(**fields: Any) -> dict[str, Any]:
    return {"data": fields}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.ec2"]}, True),
        ({"source": ["aws.s3", "aws.ec2"]}, True),
        ({"source": ["AWS.EC2"]}, False),
        ({"source": ["aws.ec2"], "region": ["eu-west-1"]}, False),
        ({"source": ["aws.ec2"], "missing": ["x"]}, False),
        (data(**{"c-count": [5]}), True),
        (data(**{"c-count": [5.0]}), True),
        (data(**{"c-count": ["5"]}), False),
        (data(**{"x-limit": [3.018e2]}), True),
        (data(instance_id=["i-000000aaaaaa00000"]), False),
        (data(**{"instance-id": ["i-000000aaaaaa00000"]}), True),
        (data(empty=[""]), True),
        (data(empty=[None]), False),
        (data(nothing=[None]), True),
        (data(nothing=[""]), False),
        (data(flag=[True]), True),
        (data(flag=[1]), False),
        (data(flag=["true"]), False),
        ({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"]}, True),
        (data(nested=[100]), False),
        (data(nested={"c1": [100]}), True),
    ],
)
def test_exact_values(pattern: dict[str, Any], expected: bool) -> None:
    assert check(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"time": [{"prefix": "2017-10-02"}]}, True),
        ({"time": [{"prefix": "2017-10-03"}]}, False),
        ({"region": [{"prefix": "us-"}]}, True),
        ({"region": [{"prefix": ""}]}, True),
        ({"source": [{"prefix": "AWS."}]}, False),
        ({"source": [{"prefix": {"equals-ignore-case": "AWS."}}]}, True),
        (data(**{"c-count": [{"prefix": "5"}]}), False),
        (data(file=[{"suffix": ".PNG"}]), True),
        (data(file=[{"suffix": ".png"}]), False),
        (data(file=[{"suffix": {"equals-ignore-case": ".png"}}]), True),
        ({"source": [{"suffix": "ec2"}]}, True),
        ({"source": [{"equals-ignore-case": "AWS.EC2"}]}, True),
        ({"source": [{"equals-ignore-case": "aws.ec"}]}, False),
        (data(flag=[{"equals-ignore-case": "true"}]), False),
    ],
)
def test_string_operators(pattern: dict[str, Any], expected: bool) -> None:
    assert check(pattern) is expected


@pytest.mark.parametrize(
    ("wildcard", "value", "expected"),
    [
        ("*/lib/*", "usr/lib/python", True),
        ("*/lib/*", "usr/local/python", False),
        ("Simple*Service", "SimpleQueueService", True),
        ("Simple*Service", "SimpleService", True),
        ("Simple*Service", "SimpleServices", False),
        ("dir/*.png", "dir/a/b.png", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("a\\\\b", "a\\b", True),
        ("*", "", True),
        ("exact", "exact", True),
        ("exact", "EXACT", False),
    ],
)
def test_wildcard(wildcard: str, value: str, expected: bool) -> None:
    assert check(data(path=[{"wildcard": wildcard}]), {"data": {"path": value}}) is expected


def test_wildcard_only_matches_strings() -> None:
    assert check(data(n=[{"wildcard": "*"}]), {"data": {"n": 5}}) is False


@pytest.mark.parametrize(
    ("matcher", "value", "expected"),
    [
        ({"anything-but": "initializing"}, "running", True),
        ({"anything-but": "initializing"}, "initializing", False),
        ({"anything-but": "initializing"}, 5, True),
        ({"anything-but": ["stopped", "overloaded"]}, "stopped", False),
        ({"anything-but": ["stopped", "overloaded"]}, "running", True),
        ({"anything-but": 123}, 123.0, False),
        ({"anything-but": 123}, "123", True),
        ({"anything-but": [100, 200, 300]}, 301.8, True),
        ({"anything-but": [100, 200, 300]}, 200, False),
        ({"anything-but": {"prefix": "us-"}}, "us-east-1", False),
        ({"anything-but": {"prefix": "us-"}}, "eu-west-1", True),
        ({"anything-but": {"suffix": ".png"}}, "a.png", False),
        ({"anything-but": {"suffix": ".png"}}, "a.jpg", True),
        ({"anything-but": {"equals-ignore-case": "initializing"}}, "INITIALIZING", False),
        ({"anything-but": {"equals-ignore-case": ["a", "b"]}}, "B", False),
        ({"anything-but": {"equals-ignore-case": ["a", "b"]}}, "c", True),
        ({"anything-but": {"wildcard": "*/lib/*"}}, "usr/lib/x", False),
        ({"anything-but": {"wildcard": "*/lib/*"}}, "usr/bin/x", True),
        ({"anything-but": {"prefix": "us-"}}, None, True),
    ],
)
def test_anything_but(matcher: dict[str, Any], value: Any, expected: bool) -> None:
    assert check(data(v=[matcher]), {"data": {"v": value}}) is expected


def test_anything_but_never_matches_a_missing_field() -> None:
    assert check(data(v=[{"anything-but": "x"}]), {"data": {}}) is False


def test_anything_but_on_an_array_matches_when_one_element_is_not_excluded() -> None:
    pattern = data(v=[{"anything-but": "a"}])
    assert check(pattern, {"data": {"v": ["a", "b"]}}) is True
    assert check(pattern, {"data": {"v": ["a", "a"]}}) is False


@pytest.mark.parametrize(
    ("numeric", "value", "expected"),
    [
        ([">", 0, "<=", 5], 5, True),
        ([">", 0, "<=", 5], 0, False),
        ([">", 0, "<=", 5], 0.0001, True),
        ([">=", 0, "<", 5], 5, False),
        ([">=", 0, "<", 5], 0, True),
        (["<", 10], 3, True),
        (["<", 10], 10, False),
        (["<=", 10], 10, True),
        ([">", 300], 301.8, True),
        (["=", 3.018e2], 301.8, True),
        (["=", 300], 300.0, True),
        (["=", 5], "5", False),
        ([">", 0], "10", False),
        ([">", 0], True, False),
        ([">", -1e9], -5e8, True),
    ],
)
def test_numeric(numeric: list[Any], value: Any, expected: bool) -> None:
    assert check(data(n=[{"numeric": numeric}]), {"data": {"n": value}}) is expected


@pytest.mark.parametrize(
    ("cidr", "address", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.33", True),
        ("10.0.0.0/24", "10.0.1.33", False),
        ("10.0.0.0/8", "10.200.0.1", True),
        ("10.0.0.7/24", "10.0.0.200", True),
        ("2001:db8::/32", "2001:db8::1", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("10.0.0.0/8", "2001:db8::1", False),
        ("10.0.0.0/8", "not-an-ip", False),
    ],
)
def test_cidr(cidr: str, address: str, expected: bool) -> None:
    assert check(data(ip=[{"cidr": cidr}]), {"data": {"ip": address}}) is expected


@pytest.mark.parametrize(
    ("field", "exists", "expected"),
    [
        ("c-count", True, True),
        ("c-count", False, False),
        ("absent", True, False),
        ("absent", False, True),
        ("nothing", True, True),
        ("empty", True, True),
        ("nested", True, False),
        ("nested", False, True),
        ("tags", True, False),
        ("tags", False, True),
    ],
)
def test_exists(field: str, exists: bool, expected: bool) -> None:
    assert check(data(**{field: [{"exists": exists}]})) is expected


def test_exists_false_on_a_missing_parent_object() -> None:
    assert check({"detail": {"c-count": [{"exists": False}]}}) is True


def test_exists_false_alone_matches_any_event_lacking_the_field() -> None:
    matcher = RuleMatcher()
    matcher.add("no-subject", {"subject": [{"exists": False}]})
    assert matcher.match({"source": "x"}) == ["no-subject"]
    assert matcher.match({"subject": "y"}) == []


def test_matchers_in_one_array_are_alternatives() -> None:
    pattern = data(v=[{"exists": False}, "x", {"prefix": "y"}])
    assert check(pattern, {"data": {}}) is True
    assert check(pattern, {"data": {"v": "x"}}) is True
    assert check(pattern, {"data": {"v": "yes"}}) is True
    assert check(pattern, {"data": {"v": "no"}}) is False


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"source": "aws.cloudwatch", "metricName": "CPUUtilization"}, True),
        ({"source": "aws.cloudwatch", "namespace": "AWS/EC2"}, True),
        ({"source": "aws.cloudwatch", "namespace": "AWS/S3"}, False),
        ({"source": "aws.ec2", "metricName": "CPUUtilization"}, False),
    ],
)
def test_or_at_top_level(event: dict[str, Any], expected: bool) -> None:
    pattern = {
        "source": ["aws.cloudwatch"],
        "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2"]}],
    }
    assert check(pattern, event) is expected


def test_or_nested_in_or_and_inside_objects() -> None:
    pattern = {
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization"]},
            {
                "metricType": ["MetricType"],
                "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
            },
        ],
        "detail": {"$or": [{"a": ["1"]}, {"b": ["2"]}]},
    }
    base = {"source": "aws.cloudwatch", "detail": {"b": "2"}}
    assert check(pattern, {**base, "metricName": "CPUUtilization"}) is True
    assert check(pattern, {**base, "metricType": "MetricType", "spaceId": 1000}) is True
    assert check(pattern, {**base, "metricType": "MetricType"}) is False
    assert check(pattern, {**base, "detail": {}, "metricName": "CPUUtilization"}) is False


def test_event_arrays_match_when_any_element_matches() -> None:
    pattern = data(tags=["b", "z"])
    assert check(pattern, {"data": {"tags": ["a", "b"]}}) is True
    assert check(pattern, {"data": {"tags": ["a", ["c", ["z"]]]}}) is True
    assert check(pattern, {"data": {"tags": ["a"]}}) is False
    assert check(pattern, {"data": {"tags": []}}) is False


def test_arrays_of_objects_are_flattened_but_stay_consistent() -> None:
    event = {
        "employees": [
            [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
            [{"firstName": "Peter", "lastName": "Jones"}],
        ]
    }
    assert check({"employees": {"firstName": ["Anna"]}}, event) is True
    assert check({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, event) is True
    assert check({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, event) is False
    absent = {"employees": {"firstName": ["Anna"], "age": [{"exists": False}]}}
    assert check(absent, event) is True
