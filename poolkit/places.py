"""Where locations are: US states and Canadian provinces by code, so that a location whose
``state`` says ``IL`` and one whose ``state`` says ``Illinois`` are counted together."""

from __future__ import annotations

US_STATES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "PR": "Puerto Rico",
}
CA_PROVINCES = {
    "AB": "Alberta",
    "BC": "British Columbia",
    "MB": "Manitoba",
    "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador",
    "NS": "Nova Scotia",
    "NT": "Northwest Territories",
    "NU": "Nunavut",
    "ON": "Ontario",
    "PE": "Prince Edward Island",
    "QC": "Quebec",
    "SK": "Saskatchewan",
    "YT": "Yukon",
}
_BY_COUNTRY = {"US": US_STATES, "CA": CA_PROVINCES}


def state_code(state: object, country: object = None) -> str | None:
    """The ISO 3166-2 code of a US state or Canadian province given by code or name, in any
    case (``il``, ``IL``, ``Illinois`` -> ``US-IL``; ``ON`` -> ``CA-ON``), for a location in
    the US or Canada or of no known country (a code both could mean is the US's); None for
    anything else (``WA`` in Australia is not Washington)."""
    if not isinstance(state, str) or (isinstance(country, str) and country not in _BY_COUNTRY):
        return None
    text = state.strip()
    countries = [country] if country in _BY_COUNTRY else list(_BY_COUNTRY)
    for where in countries:
        if text.upper() in _BY_COUNTRY[where]:
            return f"{where}-{text.upper()}"
    return next(
        (
            f"{where}-{code}"
            for where in countries
            for code, name in _BY_COUNTRY[where].items()
            if name.casefold() == text.casefold()
        ),
        None,
    )


def state_name(state: object, country: object = None) -> object:
    """The full name of a US state or Canadian province given by code or name, in any case
    (``il``, ``IL``, ``illinois`` -> ``Illinois``), by its ``state_code``; anything else as
    it was (``WA`` in Australia stays ``WA``)."""
    code = state_code(state, country)
    if code is None:
        return state
    where, _, short = code.partition("-")
    return _BY_COUNTRY[where][short]
