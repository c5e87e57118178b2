"""Clean children to corrupt: names, birth dates and homes drawn from this module's lists.

The lists are small and deliberately plain (common names in England and Wales, invented
streets, real town names with a made-up postcode area each). Brothers and sisters share a
family name and a home; a few are twins, born the same day. No person here is real.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GIVEN_NAMES = _words(
    "Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas Henry "
    "William Freddie Alfie Theo Archie Joshua James Ethan Isaac Alexander Joseph Edward "
    "Samuel Max Logan Lucas Daniel Mason Adam Reuben Dylan Benjamin Finley Harrison Sebastian "
    "Elijah Toby Tommy Louie Ronnie Rory Zachary Albie Hugo Jude Luca Caleb Matthew Nathan "
    "Christopher Michael Robert Anthony Patrick Connor Callum Kieran Liam Ryan Aaron Jamie "
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence "
    "Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice "
    "Harper Matilda Ruby Emilia Maya Millie Isabelle Eva Luna Layla Esme Aria Jessica "
    "Elizabeth Margaret Catherine Rebecca Victoria Abigail Hannah Chloe Megan Lauren Bethany "
    "Caitlin Niamh Aoife Zara Aisha Fatima Amira Priya Anaya Maryam Hafsa Zainab Katie"
)
FAMILY_NAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb "
    "Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes "
    "Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham "
    "Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders "
    "Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson "
    "Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes "
    "Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods "
    "Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed "
    "Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop "
    "Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne "
    "Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss "
    "McCarthy Chambers Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace"
)
STREET_NAMES = _words(
    "High Church Station Mill Park Victoria Green Manor Queens Kings New School Grange "
    "Windsor Alexandra York Albert Chapel Springfield Richmond Stanley Elm Oak Beech Ash "
    "Willow Cedar Chestnut Meadow Orchard Brook Hillside Highfield Fairfield Westfield "
    "Woodland Forest Rectory Vicarage Cromwell Nelson Wellington Marlborough Clarence Cavendish"
)
STREET_KINDS = ("Street", "Road", "Lane", "Avenue", "Close", "Drive", "Way", "Crescent", "Grove")
LOCALITIES = _words(
    "Northfield Southgate Eastwood Westbrook Ashley Fernhill Broadmead Kingsmead Oakwood "
    "Brookside Greenhill Parkside Riverside Hollybank Elmdon Moorside"
)
# Each town with the postcode area its made-up postcodes use.
TOWNS = (
    ("Leeds", "LS"),
    ("Bradford", "BD"),
    ("Sheffield", "S"),
    ("Manchester", "M"),
    ("Liverpool", "L"),
    ("Birmingham", "B"),
    ("Coventry", "CV"),
    ("Leicester", "LE"),
    ("Nottingham", "NG"),
    ("Derby", "DE"),
    ("Bristol", "BS"),
    ("Plymouth", "PL"),
    ("Exeter", "EX"),
    ("Norwich", "NR"),
    ("Ipswich", "IP"),
    ("Cambridge", "CB"),
    ("Oxford", "OX"),
    ("Reading", "RG"),
    ("Southampton", "SO"),
    ("Portsmouth", "PO"),
    ("Brighton", "BN"),
    ("Canterbury", "CT"),
    ("Newcastle upon Tyne", "NE"),
    ("Sunderland", "SR"),
    ("Durham", "DH"),
    ("York", "YO"),
    ("Hull", "HU"),
    ("Lincoln", "LN"),
    ("Stoke-on-Trent", "ST"),
    ("Wolverhampton", "WV"),
    ("Preston", "PR"),
    ("Blackburn", "BB"),
    ("Bolton", "BL"),
    ("Wigan", "WN"),
    ("Carlisle", "CA"),
    ("Cardiff", "CF"),
    ("Swansea", "SA"),
    ("Gloucester", "GL"),
    ("Bath", "BA"),
    ("Luton", "LU"),
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a postcode's inward code may use

SIBLING_SHARE = 0.25  # of people, who have a brother or sister in the set
TWIN_SHARE = 0.08  # of those siblings, born the same day as the first child
OLDEST = 17  # children are 0 to OLDEST years old at the as-at date


@dataclass(frozen=True)
class Person:
    """A child as they are: what every system would hold if none made a slip."""

    key: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    house_number: str
    street: str
    locality: str  # may be empty: many addresses have no second line
    town: str
    postcode: str


@dataclass(frozen=True)
class Home:
    house_number: str
    street: str
    locality: str
    town: str
    postcode: str


def people(count: int, seed: int, as_at: dt.date) -> list[Person]:
    """`count` clean children, about a quarter of them sharing a home with a sibling.

    Args:
        count: how many children.
        seed: the same seed gives the same children.
        as_at: the date their ages (0 to OLDEST) are taken at.
    """
    rng = random.Random(f"corrupt.people:{seed}")
    out: list[Person] = []
    while len(out) < count:
        first = _child(rng, len(out), _home(rng), rng.choice(FAMILY_NAMES), _born(rng, as_at))
        out.append(first)
        if len(out) < count and rng.random() < SIBLING_SHARE:
            out.append(_sibling(rng, len(out), first, as_at))
    return out


def _child(rng: random.Random, n: int, home: Home, family: str, born: dt.date) -> Person:
    return Person(
        key=f"P{n:07d}",
        given_name=rng.choice(GIVEN_NAMES),
        family_name=family,
        date_of_birth=born,
        house_number=home.house_number,
        street=home.street,
        locality=home.locality,
        town=home.town,
        postcode=home.postcode,
    )


def _sibling(rng: random.Random, n: int, first: Person, as_at: dt.date) -> Person:
    """A brother or sister of `first`: same home and family name, a different given name."""
    home = Home(first.house_number, first.street, first.locality, first.town, first.postcode)
    born = first.date_of_birth if rng.random() < TWIN_SHARE else _born(rng, as_at)
    child = _child(rng, n, home, first.family_name, born)
    while child.given_name == first.given_name:
        child = _child(rng, n, home, first.family_name, born)
    return child


def _home(rng: random.Random) -> Home:
    town, area = rng.choice(TOWNS)
    district = rng.randint(1, 29)
    inward = f"{rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    return Home(
        house_number=str(rng.choice((rng.randint(1, 40), rng.randint(1, 250)))),
        street=f"{rng.choice(STREET_NAMES)} {rng.choice(STREET_KINDS)}",
        locality=rng.choice(LOCALITIES) if rng.random() < 0.4 else "",
        town=town,
        postcode=f"{area}{district} {inward}",
    )


def _born(rng: random.Random, as_at: dt.date) -> dt.date:
    """A birth date from OLDEST years and a bit before `as_at` to a month before it."""
    latest = as_at - dt.timedelta(days=30)
    return latest - dt.timedelta(days=rng.randrange(365 * (OLDEST + 1) - 30))
