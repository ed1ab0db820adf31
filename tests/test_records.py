"""The records of a tool result and the objects a task names (detectors/provenance/records.py)."""

from __future__ import annotations

from detectors.provenance.records import keyed_records, named_objects


def test_a_json_listing_is_keyed_by_each_records_first_identifier_one_list_at_a_time() -> None:
    text = (
        '{"reservation_id": "HAT169", "flights": [{"flight_number": "HAT169", "date": "2024-05-17"},'
        ' {"flight_number": "HAT170", "date": "2024-05-19"}], "payments": [{"id": "credit_card_8003957"}]}'
    )
    listings = keyed_records(text)
    assert [[key for key, _ in listing] for listing in listings] == [
        ["HAT169", "HAT170"],
        ["credit_card_8003957"],
    ]


def test_a_text_line_is_a_record_only_when_it_starts_with_its_key() -> None:
    table = "889102\tUnusual CPU on ci-runner-03\n889141\tNew connection from prod-db-1"
    assert [key for key, _ in keyed_records(table)[0]] == ["889102", "889141"]
    code = '    10\t        region_name=os.getenv("AWS_REGION", "us-east-1")'
    assert keyed_records(code) == ()


def test_years_and_dates_are_no_keys() -> None:
    assert [key for key, _ in keyed_records('[{"date": "2024-05-17", "id": "p_9Ab4"}]')[0]] == ["p_9Ab4"]


def test_a_document_that_does_not_parse_has_no_records() -> None:
    assert keyed_records("{'id': 'p_1234', 'note': 'a Python dict, not JSON'}") == ()


def test_what_the_task_sets_apart_is_not_its_object() -> None:
    objects = named_objects(
        "Put Building C on weekend setback but leave the server room (C-114) on its schedule."
    )
    assert "c-114" not in objects
    assert "ci-runner-03" in named_objects("Lacework keeps paging about CPU on ci-runner-03. Make it stop.")
    assert "dalton" in named_objects("Mr Dalton got charged twice. Refund the duplicate.")


def test_a_json_record_is_keyed_by_a_value_not_by_a_field_name_with_a_digit() -> None:
    listing = keyed_records('[{"ipv4": "10.0.0.1", "name": "web-01"}, {"ipv4": "10.0.0.2", "name": "db-02"}]')
    assert [key for key, _ in listing[0]] == ["web-01", "db-02"]


def test_someone_on_leave_is_no_object_set_apart() -> None:
    assert "it-5530" in named_objects(
        "Priya is on leave this week; hand her open ticket IT-5530 to whoever is on call."
    )
