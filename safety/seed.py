"""Demo care resources: real, widely published crisis lines, an
international fallback, and clearly marked examples of professional care.

`load_care_resources()` is idempotent (keyed by slug): run it as often as
you like; it updates the rows it owns and leaves others alone. Every
number here must be re-verified before a real deployment (docs/safety.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import CareResource, ResourceKind

VERIFIED = dt.date(2026, 11, 1)

CRISIS: list[dict[str, Any]] = [
    {
        "slug": "us-988",
        "name": "988 Suicide & Crisis Lifeline",
        "kind": ResourceKind.CRISIS_LINE,
        "countries": ["US"],
        "phone": "988",
        "sms": "988",
        "hours": "24/7",
        "languages": "English, Spanish",
        "what_to_expect": "Call or text 988 to reach a trained crisis counsellor. "
        "Free and confidential, for you or for someone you're worried about.",
        "url": "https://988lifeline.org",
        "ordering": 10,
    },
    {
        "slug": "ca-988",
        "name": "9-8-8 Suicide Crisis Helpline",
        "kind": ResourceKind.CRISIS_LINE,
        "countries": ["CA"],
        "phone": "988",
        "sms": "988",
        "hours": "24/7",
        "languages": "English, French",
        "what_to_expect": "Call or text 988 to reach a trained responder. Free and "
        "confidential, for you or for someone you're worried about.",
        "url": "https://988.ca",
        "ordering": 10,
    },
    {
        "slug": "us-crisis-text-line",
        "name": "Crisis Text Line",
        "kind": ResourceKind.TEXT_LINE,
        "countries": ["US"],
        "sms": "741741",
        "sms_keyword": "HOME",
        "hours": "24/7",
        "languages": "English, Spanish",
        "what_to_expect": "Text HOME to 741741 to be connected with a trained "
        "volunteer crisis counsellor. Free.",
        "url": "https://www.crisistextline.org",
        "ordering": 20,
    },
    {
        "slug": "uk-ie-samaritans",
        "name": "Samaritans",
        "kind": ResourceKind.CRISIS_LINE,
        "countries": ["GB", "IE"],
        "phone": "116 123",
        "hours": "24/7",
        "languages": "English",
        "what_to_expect": "Call 116 123 free, any time, to talk to someone who "
        "will listen without judging.",
        "url": "https://www.samaritans.org",
        "ordering": 10,
    },
    {
        "slug": "uk-shout",
        "name": "Shout",
        "kind": ResourceKind.TEXT_LINE,
        "countries": ["GB"],
        "sms": "85258",
        "sms_keyword": "SHOUT",
        "hours": "24/7",
        "languages": "English",
        "what_to_expect": "Text SHOUT to 85258 for free, confidential support "
        "from a trained volunteer.",
        "url": "https://giveusashout.org",
        "ordering": 20,
    },
    {
        "slug": "ie-text-50808",
        "name": "50808 text service",
        "kind": ResourceKind.TEXT_LINE,
        "countries": ["IE"],
        "sms": "50808",
        "sms_keyword": "HELLO",
        "hours": "24/7",
        "languages": "English",
        "what_to_expect": "Text HELLO to 50808 for free, anonymous support from a "
        "trained volunteer.",
        "url": "https://text50808.ie",
        "ordering": 20,
    },
    {
        "slug": "au-lifeline",
        "name": "Lifeline Australia",
        "kind": ResourceKind.CRISIS_LINE,
        "countries": ["AU"],
        "phone": "13 11 14",
        "hours": "24/7",
        "languages": "English",
        "what_to_expect": "Call 13 11 14 to talk with a trained crisis supporter.",
        "url": "https://www.lifeline.org.au",
        "ordering": 10,
    },
    {
        "slug": "intl-find-a-helpline",
        "name": "Find A Helpline",
        "kind": ResourceKind.CHAT,
        "everywhere": True,
        "hours": "Directory; line hours vary",
        "languages": "Many",
        "what_to_expect": "A directory of free, confidential helplines in many "
        "countries. Choose your country to see who you can call, text or chat "
        "with now.",
        "url": "https://findahelpline.com",
        "ordering": 80,
    },
    {
        "slug": "intl-emergency",
        "name": "Your local emergency number",
        "kind": ResourceKind.EMERGENCY,
        "everywhere": True,
        "hours": "24/7",
        "what_to_expect": "If you or someone else is in immediate danger, call "
        "your local emergency number (for example 911, 999, 112 or 000) or go "
        "to the nearest emergency department.",
        "ordering": 90,
    },
]

# Examples of kinds of care, not referrals: generic descriptions, no URLs
# unless to a national body whose address is well established.
EXAMPLES: list[dict[str, Any]] = [
    {
        "slug": "example-anxiety",
        "name": "Example: therapy for anxiety",
        "kind": ResourceKind.THERAPY,
        "what_to_expect": "Talking therapies such as CBT help many people with "
        "anxiety. A GP or family doctor can refer you, or you may be able to "
        "refer yourself to a local service.",
    },
    {
        "slug": "example-depression",
        "name": "Example: help with depression",
        "kind": ResourceKind.THERAPY,
        "what_to_expect": "Depression is treatable. A GP or family doctor can talk "
        "through options such as talking therapy and medication.",
    },
    {
        "slug": "example-adhd",
        "name": "Example: ADHD assessment and support",
        "kind": ResourceKind.PSYCHIATRY,
        "what_to_expect": "Adult ADHD assessment is usually arranged through a "
        "doctor's referral to a specialist team, which can then discuss "
        "treatment and practical support.",
    },
    {
        "slug": "example-ocd",
        "name": "Example: specialist care for OCD",
        "kind": ResourceKind.PROGRAMME,
        "what_to_expect": "OCD responds well to a specific kind of CBT called "
        "exposure and response prevention (ERP), offered by trained "
        "therapists.",
    },
    {
        "slug": "example-trauma",
        "name": "Example: trauma-focused therapy (EMDR, TF-CBT)",
        "kind": ResourceKind.PROGRAMME,
        "what_to_expect": "Trauma-focused therapies such as EMDR and "
        "trauma-focused CBT are recommended for post-traumatic stress. Ask a "
        "doctor or look for an accredited therapist.",
    },
    {
        "slug": "example-dbt",
        "name": "Example: DBT (dialectical behaviour therapy)",
        "kind": ResourceKind.PROGRAMME,
        "what_to_expect": "DBT teaches skills for intense emotions and "
        "relationships, usually as weekly individual sessions plus a skills "
        "group.",
    },
    {
        "slug": "example-cbt",
        "name": "Example: CBT (cognitive behavioural therapy)",
        "kind": ResourceKind.THERAPY,
        "what_to_expect": "CBT is a structured, short-term talking therapy that "
        "looks at how thoughts, feelings and actions connect.",
    },
    {
        "slug": "example-medication",
        "name": "Example: psychiatric medication management",
        "kind": ResourceKind.PSYCHIATRY,
        "what_to_expect": "A psychiatrist or prescribing doctor can review whether "
        "medication could help and follow up on how it is going.",
    },
    {
        "slug": "example-peer-line",
        "name": "Example: a warm line (peer support by phone)",
        "kind": ResourceKind.PEER_LINE,
        "what_to_expect": "Warm lines are run by people with lived experience, "
        "for when you want to talk before things reach a crisis.",
    },
]


def load_care_resources() -> int:
    """Create or update the demo resources. Returns how many it touched."""
    touched = 0
    for order, entry in enumerate(EXAMPLES):
        entry.setdefault("ordering", 200 + order)
        entry.setdefault("everywhere", True)
        entry.setdefault("is_example", True)
    for entry in [*CRISIS, *EXAMPLES]:
        values = {k: v for k, v in entry.items() if k != "slug"}
        values["last_verified"] = VERIFIED
        CareResource.objects.update_or_create(slug=entry["slug"], defaults=values)
        touched += 1
    return touched
