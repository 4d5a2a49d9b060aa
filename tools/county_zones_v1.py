"""How gridtape/data/county_zones_v1.csv was built (kept for provenance; the CSV is the versioned
artefact, gridtape/counties.py reads it): the Census county list (fips,name,state, e.g.
kjhealy/fips-codes state_and_county_fips_master.csv) and footprint rules written down from
general knowledge of the seven ISOs' footprints, approximate where the basis column says so.

python tools/county_zones_v1.py state_and_county_fips_master.csv gridtape/data/county_zones_v1.csv
"""
# ruff: noqa: E701
# fmt: off

import csv
import io
import sys
from pathlib import Path


def build(census: str, target: str) -> None:

    rows = list(csv.DictReader(io.StringIO(Path(census).read_text())))
    counties = {}
    for r in rows:
        if r["state"] in ("NA", ""): continue
        f = r["fips"].zfill(5)
        name = r["name"]
        for suf in (" County", " Parish", " Borough", " Census Area", " Municipality", " city and borough"):
            if name.endswith(suf): name = name[: -len(suf)]
        counties[f] = (r["state"], name)
    by_name = {(s, n.lower()): f for f, (s, n) in counties.items()}
    def F(state, *names):
        out = []
        for n in names:
            k = (state, n.lower())
            if k not in by_name: sys.exit(f"no {n}, {state}")
            out.append(by_name[k])
        return out
    table = {}
    def put(fips, iso, zone, basis):
        table[fips] = (iso, zone, basis)
    def state_all(st, iso, zone, basis):
        for f, (s, _) in counties.items():
            if s == st: put(f, iso, zone, basis)

    # --- ERCOT: Texas except El Paso region (EPE, WECC, no ISO), Panhandle/South Plains (SPS -> SPP),
    # northeast (SWEPCO -> SPP) and southeast (Entergy Texas -> MISO).
    state_all("TX", "ERCOT", "", "state-wide: ERCOT weather zone not placed")
    for f in F("TX", "El Paso", "Hudspeth"): table.pop(f)
    panhandle = F("TX", "Dallam","Sherman","Hansford","Ochiltree","Lipscomb","Hartley","Moore","Hutchinson","Roberts",
      "Hemphill","Oldham","Potter","Carson","Gray","Wheeler","Deaf Smith","Randall","Armstrong","Donley","Collingsworth",
      "Parmer","Castro","Swisher","Briscoe","Hall","Childress","Bailey","Lamb","Hale","Floyd","Motley","Cochran","Hockley",
      "Yoakum","Terry","Lynn","Garza","Gaines")
    for f in panhandle: put(f, "SPP", "SPP", "utility territory: SPS (Xcel) Panhandle/South Plains, approximate")
    for f in F("TX", "Bowie","Cass","Marion","Harrison","Panola","Morris","Titus","Camp","Upshur","Gregg"):
        put(f, "SPP", "SPP", "utility territory: SWEPCO northeast Texas, approximate")
    for f in F("TX", "Jefferson","Orange","Hardin","Jasper","Newton","Tyler","Polk","San Jacinto","Walker","Trinity","Liberty"):
        put(f, "MISO", "LRZ8_9_10", "utility territory: Entergy Texas (MISO LRZ9), approximate")
    zones = {
     "WZ_COAST": ["Harris","Galveston","Brazoria","Fort Bend","Matagorda","Wharton","Chambers","Montgomery","Waller","Austin","Jackson","Calhoun"],
     "WZ_NORTH_C": ["Dallas","Tarrant","Collin","Denton","Ellis","Johnson","Kaufman","Rockwall","Parker","Hunt","Navarro","Hood","Somervell","Erath","McLennan","Hill","Bosque","Limestone","Freestone","Falls","Wise"],
     "WZ_SOUTH_C": ["Travis","Bexar","Williamson","Hays","Comal","Guadalupe","Bastrop","Caldwell","Lee","Burnet","Blanco","Kendall","Bandera","Medina","Atascosa","Wilson","Gonzales","Karnes","Bell","Milam","Burleson","Brazos","Fayette","Lavaca","DeWitt","Victoria","Goliad"],
     "WZ_SOUTHERN": ["Nueces","Cameron","Hidalgo","Webb","San Patricio","Starr","Willacy","Kleberg","Jim Wells","Zapata","Kenedy","Brooks","Jim Hogg","Duval","Live Oak","Bee","Refugio","Aransas","McMullen","La Salle","Dimmit","Maverick","Zavala","Frio"],
     "WZ_FAR_WEST": ["Midland","Ector","Reeves","Pecos","Ward","Winkler","Crane","Upton","Andrews","Martin","Loving","Culberson","Jeff Davis","Presidio","Brewster","Terrell","Crockett","Reagan","Glasscock"],
     "WZ_WEST": ["Taylor","Tom Green","Nolan","Howard","Mitchell","Scurry","Fisher","Jones","Callahan","Runnels","Coleman","Concho","McCulloch","Menard","Schleicher","Sutton","Kimble","Irion","Sterling","Coke","Borden","Dawson","Kent","Stonewall","Haskell","Shackelford","Eastland","Brown","Comanche","Mills","San Saba","Val Verde","Edwards","Real","Kinney","Uvalde","Kerr","Gillespie","Mason","Llano","Lubbock","Crosby","Dickens","King","Knox","Throckmorton","Stephens","Coryell","Hamilton","Lampasas"],
     "WZ_NORTH": ["Wichita","Wilbarger","Archer","Clay","Montague","Young","Jack","Baylor","Foard","Hardeman","Cottle","Palo Pinto","Cooke","Grayson","Fannin","Lamar","Red River","Delta","Hopkins","Franklin"],
     "WZ_EAST": ["Smith","Anderson","Cherokee","Henderson","Rusk","Nacogdoches","Angelina","Houston","Leon","Madison","Robertson","Wood","Rains","Van Zandt","Van Zandt","Shelby","San Augustine","Sabine","Grimes","Washington"],
    }
    for z, names in zones.items():
        for f in F("TX", *dict.fromkeys(names)):
            if table.get(f, ("",))[0] == "ERCOT":
                put(f, "ERCOT", z, "approximate: ERCOT weather zone by county")
    # --- NYISO: all of New York, zones by county (a zone follows transmission, not county lines).
    ny = {"N.Y.C.": ["Bronx","Kings","New York","Queens","Richmond"], "LONGIL": ["Nassau","Suffolk"], "DUNWOD": ["Westchester"],
     "HUD VL": ["Rockland","Orange","Putnam","Dutchess","Ulster","Sullivan"],
     "CAPITL": ["Albany","Rensselaer","Schenectady","Saratoga","Warren","Washington","Columbia","Greene"],
     "MHK VL": ["Montgomery","Fulton","Herkimer","Oneida","Otsego","Delaware","Schoharie","Hamilton","Jefferson","Lewis"],
     "NORTH": ["Clinton","Franklin","St. Lawrence","Essex"],
     "CENTRL": ["Onondaga","Oswego","Cayuga","Madison","Cortland","Tompkins","Seneca","Broome","Tioga","Chemung","Steuben","Schuyler","Yates","Chenango"],
     "GENESE": ["Monroe","Livingston","Ontario","Wayne","Orleans","Genesee","Wyoming"],
     "WEST": ["Erie","Niagara","Chautauqua","Cattaraugus","Allegany"]}
    for z, names in ny.items():
        for f in F("NY", *names): put(f, "NYISO", z, "approximate: NYISO zone by county")
    missing = [counties[f] for f, (s, _) in counties.items() if s == "NY" and f not in table]
    assert not missing, missing
    # --- ISO-NE: the six states; Aroostook (northern Maine, NMISA) is not ISO-NE.
    for st, z in (("CT", ".Z.CONNECTICUT"), ("ME", ".Z.MAINE"), ("NH", ".Z.NEWHAMPSHIRE"), ("RI", ".Z.RHODEISLAND"), ("VT", ".Z.VERMONT")):
        state_all(st, "ISONE", z, "state-wide: ISO-NE load zone = state")
    table.pop(F("ME", "Aroostook")[0])
    for z, names in ((".Z.NEMASSBOST", ["Suffolk","Middlesex","Essex","Norfolk"]), (".Z.SEMASS", ["Plymouth","Bristol","Barnstable","Dukes","Nantucket"]),
                     (".Z.WCMASS", ["Worcester","Hampden","Hampshire","Franklin","Berkshire"])):
        for f in F("MA", *names): put(f, "ISONE", z, "approximate: Massachusetts load zone by county")
    # --- CAISO: California TAC areas by county, approximate; not CAISO: SMUD/BANC (Sacramento),
    # IID (Imperial), PacifiCorp (Siskiyou, Del Norte, Modoc), LADWP's share of Los Angeles kept SCE.
    state_all("CA", "CAISO", "PGE-TAC", "approximate: CAISO TAC area by county (PG&E north/central)")
    for f in F("CA", "Sacramento", "Imperial", "Siskiyou", "Del Norte", "Modoc"): table.pop(f)
    for f in F("CA", "Los Angeles","Orange","Riverside","San Bernardino","Ventura","Santa Barbara","Tulare","Inyo","Mono","Kings"):
        put(f, "CAISO", "SCE-TAC", "approximate: CAISO TAC area by county (SCE)")
    put(F("CA", "San Diego")[0], "CAISO", "SDGE-TAC", "utility territory: SDG&E")
    put(F("NV", "Nye")[0], "CAISO", "VEA-TAC", "utility territory: Valley Electric Association (part of Nye), approximate")
    # --- PJM: whole states, and utility territories in the split ones; zone not placed.
    for st in ("PA", "NJ", "MD", "OH", "VA", "WV"):
        state_all(st, "PJM", "", "state-wide: PJM (transmission zone not placed)")
    for f in F("IL", "Cook","DuPage","Lake","Will","Kane","McHenry","DeKalb","Kendall","Grundy","Kankakee","LaSalle","Ogle","Lee","Winnebago","Boone","Stephenson","Jo Daviess","Carroll","Whiteside","Bureau","Livingston","Iroquois","Ford"):
        put(f, "PJM", "COMED", "utility territory: ComEd (northern Illinois), approximate")
    state_all("DE", "PJM", "DPL", "state-wide: Delmarva Power (PJM DPL zone), approximate")
    state_all("DC", "PJM", "PEP", "utility territory: Pepco (PJM PEP zone)")
    for f in F("IN", "St. Joseph","Elkhart","Allen","DeKalb","Noble","LaGrange","Steuben","Whitley","Huntington","Wells","Adams","Jay","Blackford","Grant","Delaware","Madison","Marshall","Kosciusko","Wabash","Miami","Howard","Tipton","Randolph"):
        put(f, "PJM", "", "utility territory: AEP Indiana Michigan Power, approximate")
    for f in F("MI", "Berrien","Cass","St. Joseph"):
        put(f, "PJM", "", "utility territory: AEP Indiana Michigan Power, approximate")
    for f in F("KY", "Boone","Kenton","Campbell","Pike","Floyd","Perry","Letcher","Knott","Breathitt","Magoffin","Johnson","Martin","Lawrence","Boyd","Greenup","Carter","Elliott","Morgan","Leslie","Clay","Madison","Clark","Montgomery","Bath","Rowan","Fleming","Mason","Lewis"):
        put(f, "PJM", "", "utility territory: AEP Kentucky Power / EKPC / Duke Kentucky, approximate")
    for f in F("NC", "Northampton","Halifax","Hertford","Bertie","Gates","Chowan","Perquimans","Pasquotank","Camden","Currituck","Dare","Martin","Washington","Tyrrell","Hyde"):
        put(f, "PJM", "", "utility territory: Dominion North Carolina, approximate")
    # PJM transmission zones by county where one utility clearly holds most of it (else left empty).
    pjm = {
     "NJ": {"PS": ["Essex","Hudson","Bergen","Passaic","Union","Middlesex","Mercer","Camden","Burlington"],
            "JC": ["Monmouth","Ocean","Morris","Sussex","Warren","Hunterdon","Somerset"],
            "AE": ["Atlantic","Cape May","Cumberland","Salem","Gloucester"]},
     "PA": {"PE": ["Philadelphia","Delaware","Chester","Montgomery","Bucks"],
            "PL": ["Lehigh","Northampton","Lancaster","Luzerne","Lackawanna","Dauphin","Cumberland","Schuylkill","Carbon","Monroe","Wayne","Pike","Columbia","Montour","Northumberland","Union","Snyder","Lycoming","Wyoming"],
            "ME": ["Berks","York","Lebanon","Adams"],
            "PN": ["Erie","Crawford","Blair","Cambria","Centre","Clearfield","Jefferson","Huntingdon","Bradford","Tioga","McKean","Elk","Warren","Venango","Clarion","Susquehanna"],
            "DUQ": ["Allegheny"],
            "APS": ["Washington","Westmoreland","Fayette","Greene","Butler","Armstrong","Franklin","Fulton"]},
     "MD": {"BC": ["Baltimore city","Baltimore","Anne Arundel","Howard","Harford"],
            "PEP": ["Montgomery","Prince George's","Charles","St. Mary's","Calvert"],
            "DPL": ["Cecil","Kent","Queen Anne's","Talbot","Caroline","Dorchester","Wicomico","Somerset","Worcester"],
            "APS": ["Washington","Frederick","Allegany","Garrett"]},
     "OH": {"ATSI": ["Cuyahoga","Summit","Lorain","Lake","Geauga","Portage","Medina","Trumbull","Mahoning","Ashtabula","Lucas","Wood","Erie","Huron","Ottawa","Sandusky"],
            "DAYTON": ["Montgomery","Greene","Miami","Clark","Darke","Preble"],
            "DEOK": ["Hamilton","Butler","Warren","Clermont"],
            "AEP": ["Franklin","Licking","Muskingum","Stark","Tuscarawas","Belmont","Jefferson","Scioto","Lawrence","Athens","Ross","Pickaway","Fairfield","Allen","Hancock"]},
     "VA": {"DOM": ["Fairfax","Loudoun","Prince William","Arlington","Henrico","Chesterfield","Hanover","Richmond city","Virginia Beach city","Norfolk city","Chesapeake city","Newport News city","Hampton city","Portsmouth city","Suffolk city","Alexandria city","Stafford","Spotsylvania"],
            "AEP": ["Roanoke","Montgomery","Pulaski","Wise","Tazewell","Washington","Smyth","Wythe","Buchanan","Russell","Scott","Lee","Dickenson","Giles","Bland","Carroll","Grayson","Henry","Pittsylvania","Campbell","Amherst","Roanoke city","Lynchburg city"],
            "APS": ["Frederick","Clarke","Warren","Shenandoah","Page","Winchester city"]},
     "WV": {"AEP": ["Kanawha","Cabell","Putnam","Mason","Jackson","Logan","Mingo","Boone","Raleigh","Fayette","Mercer","McDowell","Wyoming","Wayne","Lincoln"],
            "APS": ["Monongalia","Harrison","Marion","Berkeley","Jefferson","Preston","Wood","Randolph","Upshur","Lewis","Taylor","Barbour","Mineral","Hampshire"]},
     "KY": {"DEOK": ["Boone","Kenton","Campbell"],
            "AEP": ["Pike","Floyd","Perry","Letcher","Knott","Breathitt","Magoffin","Johnson","Martin","Lawrence","Boyd","Greenup","Leslie"],
            "EKPC": ["Madison","Clark","Montgomery","Bath","Rowan","Fleming","Mason","Lewis","Carter","Elliott","Morgan","Clay"]},
     "IN": {"AEP": ["St. Joseph","Elkhart","Allen","DeKalb","Noble","LaGrange","Steuben","Whitley","Huntington","Wells","Adams","Jay","Blackford","Grant","Delaware","Madison","Marshall","Kosciusko","Wabash","Miami","Howard","Tipton","Randolph"]},
     "MI": {"AEP": ["Berrien","Cass","St. Joseph"]},
     "NC": {"DOM": ["Northampton","Halifax","Hertford","Bertie","Gates","Chowan","Perquimans","Pasquotank","Camden","Currituck","Dare","Martin","Washington","Tyrrell","Hyde"]},
    }
    for st, zs in pjm.items():
        for z, names in zs.items():
            for f in F(st, *names):
                if table.get(f, ("",))[0] != "PJM": sys.exit(f"{f} {st} is not PJM")
                if table[f][1]: sys.exit(f"{f} {st} zoned twice")
                put(f, "PJM", z, "approximate: PJM transmission zone by county (utility territory)")
    # --- MISO.
    for st, z in (("MN","LRZ1"),("ND","LRZ1"),("WI","LRZ2_7"),("MI","LRZ2_7"),("IA","LRZ3_5"),("AR","LRZ8_9_10"),("LA","LRZ8_9_10"),("MS","LRZ8_9_10")):
        for f, (s, _) in counties.items():
            if s == st and f not in table:
                put(f, "MISO", z, "state-wide: MISO local resource zone by state, approximate")
    for f, (s, _) in counties.items():
        if s == "IL" and f not in table: put(f, "MISO", "LRZ4", "utility territory: Ameren Illinois (central/southern), approximate")
        if s == "IN" and f not in table: put(f, "MISO", "LRZ6", "state-wide: Indiana outside AEP (MISO LRZ6), approximate")
        if s == "MO" and f not in table: put(f, "MISO", "LRZ3_5", "utility territory: Ameren Missouri / co-ops (MISO LRZ5), approximate")
    for f in F("KY", "Henderson","Daviess","Hancock","Breckinridge","Meade","Ohio","McLean","Webster","Union","Crittenden","Livingston","Caldwell","Hopkins","Muhlenberg","Grayson"):
        put(f, "MISO", "LRZ6", "utility territory: Big Rivers (western Kentucky, MISO LRZ6), approximate")
    # --- SPP: Kansas, Oklahoma, Nebraska, South Dakota; and utility territories elsewhere.
    for st in ("KS", "OK", "NE", "SD"):
        state_all(st, "SPP", "SPP", "state-wide: SPP (system only)")
    for f in F("MO", "Jackson","Clay","Platte","Cass","Clinton","Buchanan","Ray","Lafayette","Johnson","Bates","Vernon","Barton","Jasper","Newton","McDonald","Barry","Lawrence","Greene","Christian","Stone","Taney","Dade","Cedar","Polk","Dallas","Webster","Henry","St. Clair","Andrew","Nodaway","Holt","Atchison"):
        put(f, "SPP", "SPP", "utility territory: Evergy / Empire / City Utilities Springfield (SPP), approximate")
    for f in F("AR", "Benton","Washington","Sebastian","Crawford","Franklin","Madison","Carroll","Logan","Scott","Polk","Sevier","Little River","Miller","Lafayette","Columbia"):
        put(f, "SPP", "SPP", "utility territory: SWEPCO / OG&E western Arkansas (SPP), approximate")
    for f in F("LA", "Caddo","Bossier","De Soto","Webster","Claiborne"):
        put(f, "SPP", "SPP", "utility territory: SWEPCO northwest Louisiana (SPP), approximate")
    for f in F("NM", "Lea","Eddy","Chaves","Roosevelt","Curry","Quay","De Baca"):
        put(f, "SPP", "SPP", "utility territory: SPS eastern New Mexico (SPP), approximate")
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["fips", "state", "county", "iso", "zone", "basis"])
    for f in sorted(table):
        iso, zone, basis = table[f]
        out.writerow([f, counties[f][0], counties[f][1], iso, zone, basis])
    Path(target).write_text(buf.getvalue())
    print(len(table), "rows")


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])
