"""Emergency contacts (紧急联系人, 联系认证): relation, name and phone, and the rules on the set.

At least two contacts, each with a relation from a fixed list, a valid name and a mainland
mobile number; none may be the borrower's own number and no number may appear twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from xindai.errors import InvalidValue
from xindai.origination.masking import mask_phone
from xindai.origination.names import normalise_name, normalise_phone

CONTACTS_MIN = 2
CONTACTS_MAX = 5


class Relation(StrEnum):
    PARENT = "parent"  # 父母
    SPOUSE = "spouse"  # 配偶
    CHILD = "child"  # 子女
    SIBLING = "sibling"  # 兄弟姐妹
    FRIEND = "friend"  # 朋友
    COLLEAGUE = "colleague"  # 同事

    @property
    def label_zh(self) -> str:
        return _RELATION_ZH[self]

    @property
    def is_family(self) -> bool:
        """A relative (亲属): parent, spouse, child or sibling."""
        return self in (Relation.PARENT, Relation.SPOUSE, Relation.CHILD, Relation.SIBLING)


_RELATION_ZH = {
    Relation.PARENT: "父母",
    Relation.SPOUSE: "配偶",
    Relation.CHILD: "子女",
    Relation.SIBLING: "兄弟姐妹",
    Relation.FRIEND: "朋友",
    Relation.COLLEAGUE: "同事",
}
_RELATION_BY_LABEL = {label: relation for relation, label in _RELATION_ZH.items()}


class ContactError(InvalidValue):
    code = "CONTACT_INVALID"


class ContactsTooFew(ContactError):
    code = "CONTACTS_TOO_FEW"


class ContactsTooMany(ContactError):
    code = "CONTACTS_TOO_MANY"


class ContactIsBorrower(ContactError):
    code = "CONTACT_IS_BORROWER"


class ContactDuplicate(ContactError):
    code = "CONTACT_DUPLICATE"


class ContactRelationInvalid(ContactError):
    code = "CONTACT_RELATION"


class ContactsNoFamily(ContactError):
    code = "CONTACTS_NO_FAMILY"


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    """A validated contact: normalised name and 11-digit phone."""

    name: str
    phone: str
    relation: Relation


def parse_relation(text: str | Relation, *, field: str = "relation") -> Relation:
    """A relation from its key (`parent`) or its Chinese label (`父母`) → `CONTACT_RELATION`."""
    if isinstance(text, Relation):
        return text
    cleaned = str(text).strip()
    relation = _RELATION_BY_LABEL.get(cleaned)
    if relation is not None:
        return relation
    try:
        return Relation(cleaned.lower())
    except ValueError:
        allowed = "、".join(f"{r.label_zh} {r.value}" for r in Relation)
        raise ContactRelationInvalid(
            field, text, f"must be one of: {allowed}", f"关系应为以下之一：{allowed}"
        ) from None


def parse_contact(
    name: str, phone: str, relation: str | Relation, *, field: str = "contact"
) -> EmergencyContact:
    """One contact, each part validated (`NAME_INVALID`, `PHONE_INVALID`, `CONTACT_RELATION`)."""
    return EmergencyContact(
        normalise_name(name, field=f"{field}.name"),
        normalise_phone(phone, field=f"{field}.phone"),
        parse_relation(relation, field=f"{field}.relation"),
    )


def validate_contacts(
    contacts: Iterable[Mapping[str, str] | EmergencyContact],
    borrower_phone: str,
    *,
    min_count: int = CONTACTS_MIN,
    max_count: int = CONTACTS_MAX,
    require_family: bool = False,
) -> tuple[EmergencyContact, ...]:
    """The validated contacts, in the order given.

    Each item is an `EmergencyContact` or a mapping with `name`, `phone` and `relation`.
    Raises `CONTACTS_TOO_FEW` / `CONTACTS_TOO_MANY` on the count, the field errors of
    `parse_contact`, `CONTACT_IS_BORROWER` when a number is the borrower's own,
    `CONTACT_DUPLICATE` when a number appears twice, `CONTACT_RELATION` for a second spouse,
    and with `require_family` `CONTACTS_NO_FAMILY` when no contact is a relative.
    """
    items = list(contacts)
    if len(items) < min_count:
        raise ContactsTooFew(
            "contacts",
            len(items),
            f"at least {min_count} emergency contacts are needed",
            f"至少需要 {min_count} 位紧急联系人",
        )
    if len(items) > max_count:
        raise ContactsTooMany(
            "contacts",
            len(items),
            f"at most {max_count} emergency contacts",
            f"紧急联系人最多 {max_count} 位",
        )
    own_phone = normalise_phone(borrower_phone, field="borrower_phone")
    result: list[EmergencyContact] = []
    seen_phones: dict[str, int] = {}
    for index, item in enumerate(items):
        field = f"contacts[{index}]"
        if isinstance(item, EmergencyContact):
            contact = parse_contact(item.name, item.phone, item.relation, field=field)
        else:
            contact = parse_contact(
                item.get("name", ""), item.get("phone", ""), item.get("relation", ""), field=field
            )
        if contact.phone == own_phone:
            raise ContactIsBorrower(
                f"{field}.phone",
                mask_phone(contact.phone),
                "is the borrower's own number; give someone else's",
                "不能填写本人手机号，请填写他人的手机号",
            )
        if contact.phone in seen_phones:
            raise ContactDuplicate(
                f"{field}.phone",
                mask_phone(contact.phone),
                f"is the same number as contact {seen_phones[contact.phone] + 1}",
                f"与第 {seen_phones[contact.phone] + 1} 位联系人的手机号重复",
            )
        if contact.relation is Relation.SPOUSE and any(
            c.relation is Relation.SPOUSE for c in result
        ):
            raise ContactRelationInvalid(
                f"{field}.relation",
                contact.relation.value,
                "only one contact can be the spouse",
                "配偶只能填写一位",
            )
        seen_phones[contact.phone] = index
        result.append(contact)
    if require_family and not any(c.relation.is_family for c in result):
        raise ContactsNoFamily(
            "contacts",
            [c.relation.value for c in result],
            "at least one contact must be a relative (parent, spouse, child or sibling)",
            "至少一位联系人应为亲属（父母、配偶、子女或兄弟姐妹）",
        )
    return tuple(result)
