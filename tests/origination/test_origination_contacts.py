"""Emergency contacts: count, relation, names and phones, not the borrower, no duplicates."""

from __future__ import annotations

import pytest

from xindai.origination.contacts import (
    ContactDuplicate,
    ContactIsBorrower,
    ContactRelationInvalid,
    ContactsNoFamily,
    ContactsTooFew,
    ContactsTooMany,
    EmergencyContact,
    Relation,
    parse_relation,
    validate_contacts,
)
from xindai.origination.names import NameInvalid, PhoneInvalid

BORROWER_PHONE = "13800138000"
MOTHER = {"name": "李秀英", "phone": "13900139000", "relation": "父母"}
FRIEND = {"name": "王 五", "phone": "13700137000", "relation": "friend"}


def contact(name: str, phone: str, relation: str) -> dict[str, str]:
    return {"name": name, "phone": phone, "relation": relation}


def test_two_valid_contacts() -> None:
    friend = contact("王五", "+86 137-0013-7000", "朋友")
    result = validate_contacts([MOTHER, friend], BORROWER_PHONE)
    assert result == (
        EmergencyContact("李秀英", "13900139000", Relation.PARENT),
        EmergencyContact("王五", "13700137000", Relation.FRIEND),
    )


def test_contacts_can_be_given_as_objects() -> None:
    given = [
        EmergencyContact("李秀英", "13900139000", Relation.PARENT),
        EmergencyContact("Anna Lee", "13700137000", Relation.COLLEAGUE),
    ]
    assert validate_contacts(given, BORROWER_PHONE) == tuple(given)


@pytest.mark.parametrize("count", [0, 1])
def test_too_few(count: int) -> None:
    with pytest.raises(ContactsTooFew) as caught:
        validate_contacts([MOTHER][:count], BORROWER_PHONE)
    assert caught.value.code == "CONTACTS_TOO_FEW"
    assert "2" in caught.value.message_zh


def test_too_many() -> None:
    many = [contact("张三", f"1390013900{i}", "friend") for i in range(6)]
    with pytest.raises(ContactsTooMany) as caught:
        validate_contacts(many, BORROWER_PHONE)
    assert caught.value.code == "CONTACTS_TOO_MANY"


def test_the_borrower_cannot_be_a_contact_even_written_differently() -> None:
    myself = contact("张三", "+86 138 0013 8000", "sibling")
    with pytest.raises(ContactIsBorrower) as caught:
        validate_contacts([MOTHER, myself], BORROWER_PHONE)
    assert caught.value.code == "CONTACT_IS_BORROWER"
    assert caught.value.field == "contacts[1].phone"
    assert "138****8000" in str(caught.value)


def test_duplicate_numbers() -> None:
    again = contact("李四", "139-0013-9000", "sibling")
    with pytest.raises(ContactDuplicate) as caught:
        validate_contacts([MOTHER, FRIEND, again], BORROWER_PHONE)
    assert caught.value.code == "CONTACT_DUPLICATE"
    assert "contact 1" in str(caught.value)


@pytest.mark.parametrize("relation", ["邻居", "neighbour", "", "boss"])
def test_relation_outside_the_list(relation: str) -> None:
    with pytest.raises(ContactRelationInvalid) as caught:
        validate_contacts([MOTHER, contact("王五", "13700137000", relation)], BORROWER_PHONE)
    assert caught.value.code == "CONTACT_RELATION"
    assert caught.value.field == "contacts[1].relation"


def test_only_one_spouse() -> None:
    spouses = [
        contact("王芳", "13700137000", "配偶"),
        contact("赵敏", "13600136000", "spouse"),
    ]
    with pytest.raises(ContactRelationInvalid, match="spouse"):
        validate_contacts(spouses, BORROWER_PHONE)


def test_family_requirement_is_optional() -> None:
    friends = [FRIEND, contact("赵六", "13600136000", "同事")]
    assert len(validate_contacts(friends, BORROWER_PHONE)) == 2
    with pytest.raises(ContactsNoFamily) as caught:
        validate_contacts(friends, BORROWER_PHONE, require_family=True)
    assert caught.value.code == "CONTACTS_NO_FAMILY"
    assert validate_contacts([MOTHER, FRIEND], BORROWER_PHONE, require_family=True)


def test_field_errors_name_the_contact() -> None:
    with pytest.raises(NameInvalid) as name_error:
        validate_contacts([MOTHER, contact("王", "13700137000", "friend")], BORROWER_PHONE)
    assert name_error.value.field == "contacts[1].name"
    with pytest.raises(PhoneInvalid) as phone_error:
        validate_contacts([contact("王五", "12345", "friend"), MOTHER], BORROWER_PHONE)
    assert phone_error.value.field == "contacts[0].phone"


def test_the_borrower_phone_is_checked_too() -> None:
    with pytest.raises(PhoneInvalid):
        validate_contacts([MOTHER, FRIEND], "not a phone")


def test_relations_by_key_and_label() -> None:
    assert [parse_relation(r.label_zh) for r in Relation] == list(Relation)
    assert [parse_relation(r.value.upper()) for r in Relation] == list(Relation)
    assert [r.label_zh for r in Relation] == ["父母", "配偶", "子女", "兄弟姐妹", "朋友", "同事"]
    assert Relation.SIBLING.is_family and not Relation.FRIEND.is_family
