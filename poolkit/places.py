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
_NAMES = {name.casefold(): name for table in _BY_COUNTRY.values() for name in table.values()}


def state_name(state: object, country: object = None) -> object:
    """The full name of a US state or Canadian province given by code or name, in any case
    (``il``, ``IL``, ``illinois`` -> ``Illinois``), for a location in the US or Canada or of
    no known country; anything else as it was (``WA`` in Australia stays ``WA``)."""
    if not isinstance(state, str) or (isinstance(country, str) and country not in _BY_COUNTRY):
        return state
    text = state.strip()
    for table in [_BY_COUNTRY[country]] if country in _BY_COUNTRY else _BY_COUNTRY.values():
        if text.upper() in table:
            return table[text.upper()]
    return _NAMES.get(text.casefold(), state)
