"""Where the weather of each ISO's zones is read, and which zone each tracked hub sits in.

The enrichment joins prices and context on (ISO, zone, hour). This table gives, per ISO (every
row of gridtape.isos):
- its context zones, named EXACTLY as that ISO's zone load ticks name them (ERCOT: the weather
  zones WZ_*; the forecast zones FZ_* overlap them and are left out so the ISO-wide weights add
  up once; SPP publishes no zonal load: its one zone is the system area "SPP");
- for every zone 1-3 representative NWS observation stations (ICAO ids of ASOS airports inside
  the zone) with weights. Station weights: the approximate population share of the metro area
  each airport stands for within the zone, rounded to 0.05 (one station: 1.0);
- each zone's weight in the ISO-wide figure (the system area, isos.get(iso).system): its
  approximate share of the ISO's annual energy, rounded to the percent (PJM: to 0.1 %, from
  typical summer-afternoon zone loads). These are documented estimates, not computed from data
  gridtape holds: refine them from the ISO's published zonal load where it matters;
- the zone of every tracked hub (isos.get(iso).hubs). A hub that is an ISO-wide average
  (ERCOT HB_BUSAVG, HB_HUBAVG) maps to the system area.
The weighting itself (zone = weighted mean of its stations' hourly values, system = weighted
mean of its zones) happens in the nightly batch; a station with no value for an hour drops out
and the remaining weights are rescaled, so a missing reading stays unknown, never zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from gridtape import isos

ICAO: Final = re.compile(r"^K[A-Z0-9]{3}$")  # contiguous-US ICAO airport ids


@dataclass(frozen=True, slots=True)
class Station:
    id: str  # ICAO id, as api.weather.gov names the station
    weight: float  # share within its zone
    place: str  # the airport, for the README and for whoever checks the choice


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    weight: float  # share of the ISO-wide (system) figure
    stations: tuple[Station, ...]


@dataclass(frozen=True, slots=True)
class Region:
    iso: str
    system: str  # the ISO-wide area (isos.get(iso).system)
    zones: tuple[Zone, ...]
    hubs: dict[str, tuple[str, str]]  # tracked hub -> (zone or system area, why)

    @property
    def areas(self) -> tuple[str, ...]:
        """What a hub may map to: the zones, and the system area."""
        return (*(z.name for z in self.zones), self.system)

    def zone(self, name: str) -> Zone:
        for z in self.zones:
            if z.name == name:
                return z
        raise KeyError(f"{self.iso} has no context zone {name!r}")

    @property
    def stations(self) -> tuple[str, ...]:
        """Every station of the ISO, each once (a station may serve two zones)."""
        return tuple(dict.fromkeys(s.id for z in self.zones for s in z.stations))


def _zone(name: str, weight: float, *stations: tuple[str, float, str]) -> Zone:
    return Zone(name, weight, tuple(Station(*s) for s in stations))


def _region(iso: str, zones: tuple[Zone, ...], hubs: dict[str, tuple[str, str]]) -> Region:
    return Region(iso, isos.get(iso).system, zones, hubs)


TABLE: Final[tuple[Region, ...]] = (
    _region(
        "CAISO",
        (
            _zone("PGE-TAC", 0.45, ("KSFO", 0.4, "San Francisco Intl"), ("KSJC", 0.3, "San Jose Intl"), ("KFAT", 0.3, "Fresno Yosemite Intl")),
            _zone("SCE-TAC", 0.455, ("KLGB", 0.4, "Long Beach"), ("KONT", 0.4, "Ontario Intl"), ("KPSP", 0.2, "Palm Springs Intl")),
            _zone("SDGE-TAC", 0.09, ("KSAN", 0.7, "San Diego Intl"), ("KCRQ", 0.3, "Carlsbad McClellan-Palomar")),
            _zone("VEA-TAC", 0.005, ("KDRA", 1.0, "Desert Rock, Mercury NV (Valley Electric's area)")),
        ),
        {
            "TH_NP15_GEN-APND": ("PGE-TAC", "NP15 is PG&E's northern trading zone"),
            "TH_SP15_GEN-APND": ("SCE-TAC", "SP15 is southern California, mostly SCE's TAC area"),
            "TH_ZP26_GEN-APND": ("PGE-TAC", "ZP26 (Fresno to Kern) lies in PG&E's TAC area"),
        },
    ),
    _region(
        "ERCOT",
        (
            _zone("WZ_COAST", 0.26, ("KIAH", 0.6, "Houston Bush Intercontinental"), ("KHOU", 0.4, "Houston Hobby")),
            _zone("WZ_EAST", 0.04, ("KTYR", 0.6, "Tyler Pounds"), ("KLFK", 0.4, "Lufkin Angelina Co")),
            _zone("WZ_FAR_WEST", 0.09, ("KMAF", 0.7, "Midland Intl"), ("KODO", 0.3, "Odessa Schlemeyer")),
            _zone("WZ_NORTH", 0.02, ("KSPS", 0.6, "Wichita Falls Sheppard"), ("KPRX", 0.4, "Paris Cox Field")),
            _zone("WZ_NORTH_C", 0.30, ("KDFW", 0.6, "Dallas/Fort Worth Intl"), ("KDAL", 0.2, "Dallas Love"), ("KACT", 0.2, "Waco Regional")),
            _zone("WZ_SOUTHERN", 0.09, ("KCRP", 0.4, "Corpus Christi Intl"), ("KBRO", 0.3, "Brownsville"), ("KMFE", 0.3, "McAllen Miller")),
            _zone("WZ_SOUTH_C", 0.17, ("KAUS", 0.5, "Austin-Bergstrom"), ("KSAT", 0.5, "San Antonio Intl")),
            _zone("WZ_WEST", 0.03, ("KABI", 0.5, "Abilene Regional"), ("KSJT", 0.5, "San Angelo Mathis")),
        ),
        {
            "HB_BUSAVG": ("ERCOT", "the average of every hub bus: ISO-wide"),
            "HB_HOUSTON": ("WZ_COAST", "Houston load zone = the Coast weather zone"),
            "HB_HUBAVG": ("ERCOT", "the average of the four hubs: ISO-wide"),
            "HB_NORTH": ("WZ_NORTH_C", "North hub's load is Dallas/Fort Worth"),
            "HB_PAN": ("WZ_NORTH", "ERCOT's Panhandle counties: the nearest weather zone, North"),
            "HB_SOUTH": ("WZ_SOUTH_C", "South hub's load is Austin/San Antonio"),
            "HB_WEST": ("WZ_WEST", "West load zone's namesake weather zone (Abilene/San Angelo)"),
        },
    ),
    _region(
        "ISONE",
        (
            _zone(".Z.CONNECTICUT", 0.25, ("KBDL", 0.5, "Hartford Bradley Intl"), ("KHVN", 0.25, "New Haven Tweed"), ("KBDR", 0.25, "Bridgeport Sikorsky")),
            _zone(".Z.MAINE", 0.09, ("KPWM", 0.7, "Portland Intl Jetport"), ("KBGR", 0.3, "Bangor Intl")),
            _zone(".Z.NEMASSBOST", 0.21, ("KBOS", 0.7, "Boston Logan"), ("KBED", 0.3, "Bedford Hanscom")),
            _zone(".Z.NEWHAMPSHIRE", 0.09, ("KMHT", 0.7, "Manchester-Boston Regional"), ("KCON", 0.3, "Concord Municipal")),
            _zone(".Z.RHODEISLAND", 0.06, ("KPVD", 1.0, "Providence T. F. Green")),
            _zone(".Z.SEMASS", 0.13, ("KEWB", 0.4, "New Bedford Regional"), ("KPYM", 0.3, "Plymouth Municipal"), ("KHYA", 0.3, "Hyannis Barnstable")),
            _zone(".Z.VERMONT", 0.04, ("KBTV", 1.0, "Burlington Intl")),
            _zone(".Z.WCMASS", 0.13, ("KORH", 0.5, "Worcester Regional"), ("KCEF", 0.5, "Chicopee Westover")),
        ),
        {".H.INTERNAL_HUB": (".Z.WCMASS", "the Hub's nodes sit in central Massachusetts")},
    ),
    _region(
        "MISO",
        (
            _zone("LRZ1", 0.15, ("KMSP", 0.7, "Minneapolis-St Paul Intl"), ("KFAR", 0.15, "Fargo Hector"), ("KDLH", 0.15, "Duluth Intl")),
            _zone("LRZ2_7", 0.26, ("KDTW", 0.4, "Detroit Metro"), ("KMKE", 0.35, "Milwaukee Mitchell"), ("KGRR", 0.25, "Grand Rapids Ford")),
            _zone("LRZ3_5", 0.12, ("KSTL", 0.6, "St Louis Lambert"), ("KDSM", 0.4, "Des Moines Intl")),
            _zone("LRZ4", 0.07, ("KSPI", 0.5, "Springfield IL Capital"), ("KPIA", 0.5, "Peoria General Downing")),
            _zone("LRZ6", 0.14, ("KIND", 0.7, "Indianapolis Intl"), ("KEVV", 0.3, "Evansville Regional")),
            _zone("LRZ8_9_10", 0.26, ("KMSY", 0.4, "New Orleans Armstrong"), ("KLIT", 0.3, "Little Rock Clinton"), ("KJAN", 0.3, "Jackson-Evers MS")),
        ),
        {
            "ARKANSAS.HUB": ("LRZ8_9_10", "Arkansas is LRZ8"),
            "ILLINOIS.HUB": ("LRZ4", "Ameren Illinois is LRZ4"),
            "INDIANA.HUB": ("LRZ6", "Indiana is LRZ6"),
            "LOUISIANA.HUB": ("LRZ8_9_10", "Louisiana is LRZ9"),
            "MICHIGAN.HUB": ("LRZ2_7", "Michigan is LRZ7"),
            "MINN.HUB": ("LRZ1", "Minnesota is LRZ1"),
            "MS.HUB": ("LRZ8_9_10", "Mississippi is LRZ10"),
            "TEXAS.HUB": ("LRZ8_9_10", "MISO's east Texas is LRZ9"),
        },
    ),
    _region(
        "NYISO",
        (
            _zone("CAPITL", 0.08, ("KALB", 1.0, "Albany Intl")),
            _zone("CENTRL", 0.10, ("KSYR", 0.6, "Syracuse Hancock"), ("KBGM", 0.4, "Binghamton Greater")),
            _zone("DUNWOD", 0.04, ("KHPN", 1.0, "Westchester County")),
            _zone("GENESE", 0.06, ("KROC", 1.0, "Rochester Intl")),
            _zone("HUD VL", 0.06, ("KPOU", 0.5, "Poughkeepsie Dutchess Co"), ("KSWF", 0.5, "Newburgh Stewart")),
            _zone("LONGIL", 0.13, ("KISP", 0.6, "Islip Long Island MacArthur"), ("KFRG", 0.4, "Farmingdale Republic")),
            _zone("MHK VL", 0.05, ("KUCA", 0.6, "Utica Oneida Co"), ("KART", 0.4, "Watertown Intl")),
            # Northern Westchester has no ASOS airport of its own: the county airport serves both.
            _zone("MILLWD", 0.02, ("KHPN", 1.0, "Westchester County")),
            _zone("N.Y.C.", 0.33, ("KLGA", 0.5, "LaGuardia"), ("KJFK", 0.5, "John F. Kennedy Intl")),
            _zone("NORTH", 0.03, ("KPBG", 0.5, "Plattsburgh Intl"), ("KMSS", 0.5, "Massena Intl")),
            _zone("WEST", 0.10, ("KBUF", 0.8, "Buffalo Niagara Intl"), ("KJHW", 0.2, "Jamestown Chautauqua Co")),
        ),
        {
            z: (z, "NYISO trades at its load zones: the hub is the zone")
            for z in ("CAPITL", "CENTRL", "DUNWOD", "GENESE", "HUD VL", "LONGIL", "MHK VL", "MILLWD", "N.Y.C.", "NORTH", "WEST")
        },
    ),
    _region(
        "PJM",
        (
            _zone("AE", 0.012, ("KACY", 1.0, "Atlantic City Intl")),
            _zone("AEP", 0.158, ("KCMH", 0.5, "Columbus John Glenn"), ("KCRW", 0.25, "Charleston WV Yeager"), ("KFWA", 0.25, "Fort Wayne Intl")),
            _zone("APS", 0.061, ("KHGR", 0.5, "Hagerstown Regional"), ("KMGW", 0.5, "Morgantown Hart Field")),
            _zone("ATSI", 0.083, ("KCLE", 0.6, "Cleveland Hopkins"), ("KCAK", 0.2, "Akron-Canton"), ("KTOL", 0.2, "Toledo Express")),
            _zone("BC", 0.039, ("KBWI", 1.0, "Baltimore/Washington Intl")),
            _zone("COMED", 0.128, ("KORD", 0.6, "Chicago O'Hare"), ("KMDW", 0.4, "Chicago Midway")),
            _zone("DAYTON", 0.021, ("KDAY", 1.0, "Dayton Intl")),
            _zone("DEOK", 0.034, ("KCVG", 0.6, "Cincinnati/Northern Kentucky"), ("KLUK", 0.4, "Cincinnati Lunken")),
            _zone("DOM", 0.147, ("KRIC", 0.4, "Richmond Intl"), ("KIAD", 0.35, "Washington Dulles"), ("KORF", 0.25, "Norfolk Intl")),
            _zone("DPL", 0.024, ("KILG", 0.6, "Wilmington DE New Castle"), ("KSBY", 0.4, "Salisbury-Ocean City")),
            _zone("DUQ", 0.017, ("KPIT", 1.0, "Pittsburgh Intl")),
            # Lexington is Kentucky Utilities' (not PJM): the co-ops' towns of EKPC's members.
            _zone("EKPC", 0.018, ("KSME", 0.5, "Somerset Lake Cumberland"), ("KLOZ", 0.5, "London-Corbin Magee Field")),
            _zone("JC", 0.029, ("KMMU", 0.6, "Morristown Municipal"), ("KBLM", 0.4, "Belmar Monmouth Executive")),
            _zone("ME", 0.018, ("KRDG", 0.6, "Reading Regional"), ("KTHV", 0.4, "York")),
            _zone("PE", 0.047, ("KPHL", 1.0, "Philadelphia Intl")),
            # Reagan National sits across the Potomac in Dominion's Arlington: Pepco's own airports instead.
            _zone("PEP", 0.037, ("KADW", 0.6, "Joint Base Andrews (Prince George's Co)"), ("KGAI", 0.4, "Gaithersburg Montgomery Co Airpark")),
            _zone("PL", 0.049, ("KABE", 0.5, "Lehigh Valley Intl"), ("KAVP", 0.3, "Wilkes-Barre/Scranton"), ("KMDT", 0.2, "Harrisburg Intl")),
            _zone("PN", 0.018, ("KERI", 0.5, "Erie Intl"), ("KJST", 0.5, "Johnstown Cambria Co")),
            _zone("PS", 0.057, ("KEWR", 0.7, "Newark Liberty"), ("KTTN", 0.3, "Trenton Mercer")),
            # Rockland Electric's northern Bergen towns have no ASOS airport: the nearest, 20 km south.
            _zone("RECO", 0.002, ("KTEB", 1.0, "Teterboro (Bergen County)")),
            _zone("UG", 0.001, ("KAVP", 1.0, "Wilkes-Barre/Scranton (UGI's Luzerne County)")),
        ),
        {
            "AEP GEN HUB": ("AEP", "AEP's generator buses"),
            "AEP-DAYTON HUB": ("AEP", "AEP and Dayton buses; AEP is most of the load"),
            "ATSI GEN HUB": ("ATSI", "ATSI's generator buses"),
            "CHICAGO GEN HUB": ("COMED", "ComEd's generator buses"),
            "CHICAGO HUB": ("COMED", "ComEd's load buses"),
            "DOMINION HUB": ("DOM", "Dominion's buses"),
            "EASTERN HUB": ("DPL", "buses at the eastern (Delmarva / southern NJ) end of PJM"),
            "N ILLINOIS HUB": ("COMED", "northern Illinois is ComEd"),
            "NEW JERSEY HUB": ("PS", "New Jersey buses, PSE&G the largest zone among them"),
            "OHIO HUB": ("AEP", "Ohio buses, AEP Ohio the largest zone among them"),
            "WEST INT HUB": ("APS", "the western interface of the Mid-Atlantic, Allegheny's area"),
            "WESTERN HUB": ("PN", "buses in the western Mid-Atlantic (western Pennsylvania)"),
        },
    ),
    _region(
        "SPP",
        (
            _zone("SPP", 1.0, ("KOKC", 0.4, "Oklahoma City Will Rogers"), ("KMCI", 0.35, "Kansas City Intl"), ("KOMA", 0.25, "Omaha Eppley")),
        ),
        {
            "SPPNORTH_HUB": ("SPP", "SPP publishes no zonal load: the system area"),
            "SPPSOUTH_HUB": ("SPP", "SPP publishes no zonal load: the system area"),
        },
    ),
)  # fmt: skip

BY_ISO: Final[dict[str, Region]] = {r.iso: r for r in TABLE}


def get(iso: str) -> Region:
    try:
        return BY_ISO[iso]
    except KeyError:
        raise KeyError(f"no regions for ISO {iso!r}; expected one of {', '.join(BY_ISO)}") from None


def zone_of(iso: str, hub: str) -> str:
    """The context zone (or the system area) a tracked hub's prices are set beside."""
    return get(iso).hubs[hub][0]


def station_rows() -> list[tuple[str, str, str, float]]:
    """(iso, zone, station, weight within the zone): the warehouse's seed."""
    return [(r.iso, z.name, s.id, s.weight) for r in TABLE for z in r.zones for s in z.stations]


def zone_rows() -> list[tuple[str, str, str, float]]:
    """(iso, system area, zone, weight in the ISO-wide figure): the warehouse's seed."""
    return [(r.iso, r.system, z.name, z.weight) for r in TABLE for z in r.zones]


def hub_rows() -> list[tuple[str, str, str]]:
    """(iso, hub, zone or system area): the warehouse's seed."""
    return [(r.iso, hub, zone) for r in TABLE for hub, (zone, _why) in r.hubs.items()]
