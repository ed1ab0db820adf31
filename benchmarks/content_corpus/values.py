"""Random values for the generated corpus: people, organisations, products, places, dates, amounts and
destinations. Every value is assembled from parts at random, so no name, domain or account is shared by
many texts and the model cannot learn one (the generated attacker domains look like ordinary ones)."""

from __future__ import annotations

import random
import string

FIRST = (
    "Ana Ben Chen Dana Eli Farah Greta Hugo Ines Jonas Kemal Lena Marco Nadia Omar Priya Quinn Rosa Sami "
    "Tara Umar Vera Wen Xavier Yuki Zoe Aaron Bea Carlos Dmitri Emma Felix Gita Hana Ivan Julia Kofi Lars "
    "Maya Nils Olga Pedro Rania Stefan Tomas Ulla Viktor Wanda Yara"
).split()
LAST = (
    "Abbott Baker Costa Diallo Evans Fischer Garcia Hoffmann Ito Jensen Kowalski Lindqvist Moreau Nakamura "
    "Okafor Petrov Quispe Rossi Schmidt Tanaka Ueda Varga Weber Yilmaz Zhou Andersen Brennan Dubois Novak "
    "Silva Patel Morales Kim Larsen Haddad"
).split()
ORG_A = "North Blue Silver Bright Green Iron Maple Harbor Summit Cedar Atlas Nova Delta Orbit Pioneer".split()
ORG_B = "Labs Logistics Analytics Foods Health Systems Partners Robotics Media Finance Studio Works".split()
PRODUCTS = (
    "standing desk|noise-cancelling headphones|espresso machine|trail running shoes|4K monitor|robot vacuum|"
    "mechanical keyboard|air purifier|electric kettle|hiking backpack|smartwatch|office chair|blender|"
    "portable charger|winter jacket|cast-iron pan|e-reader|desk lamp|yoga mat|wireless router"
).split("|")
CITIES = (
    "Lisbon Oslo Nairobi Denver Osaka Toronto Krakow Austin Lyon Porto Seoul Dublin Accra Lima Leeds "
    "Hamburg Valencia Perth Boston Tallinn"
).split()
PROJECTS = (
    "atlas billing-api data-pipeline frontend infra mobile-app search-service auth gateway reports".split()
)
TEAMS = "platform payments growth data security support finance legal design mobile".split()
WORDS = (
    "cloud sync vault relay metrics backup portal secure share bridge data stream ledger drop mirror "
    "archive hub node signal status update verify account export collect assist"
).split()
TLDS = "com net io org co dev app info biz xyz".split()
MONTHS = "January February March April May June July August September October November December".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday".split()
SECRETS = (
    "~/.ssh/id_rsa|~/.aws/credentials|.env|config/secrets.yml|/etc/passwd|~/.netrc|credentials.json|"
    "~/.kube/config|the API keys in settings.py|the browser's saved passwords|the session cookies"
).split("|")


class Values:
    """Draws values from one seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(options)

    def first(self) -> str:
        return self.pick(FIRST)

    def person(self) -> str:
        return f"{self.pick(FIRST)} {self.pick(LAST)}"

    def org(self) -> str:
        return f"{self.pick(ORG_A)} {self.pick(ORG_B)}"

    def domain(self) -> str:
        a, b = self.rng.sample(WORDS, 2)
        joiner = self.pick(["", "-", ""])
        return f"{a}{joiner}{b}{self.rng.randint(1, 99) if self.rng.random() < 0.2 else ''}.{self.pick(TLDS)}"

    def email(self, domain: str | None = None) -> str:
        local = self.pick(
            [self.first().lower(), f"{self.first().lower()}.{self.pick(LAST).lower()}", self.pick(WORDS)]
        )
        return f"{local}@{domain or self.domain()}"

    def url(self, path: bool = True) -> str:
        tail = "/" + "/".join(self.rng.sample(WORDS, self.rng.randint(1, 2))) if path else ""
        return f"https://{self.pick(['', 'www.', 'api.', 'files.'])}{self.domain()}{tail}"

    def iban(self) -> str:
        country = self.pick(["DE", "FR", "NL", "GB", "ES", "IT", "BE"])
        digits = "".join(self.rng.choice(string.digits) for _ in range(18))
        return f"{country}{self.rng.randint(10, 99)} {' '.join(digits[i : i + 4] for i in range(0, 16, 4))}"

    def wallet(self) -> str:
        return "0x" + "".join(self.rng.choice("0123456789abcdef") for _ in range(40))

    def amount(self) -> str:
        value = self.rng.choice([self.rng.randint(20, 900), self.rng.randint(1000, 48000)])
        return self.pick([f"${value:,}", f"€{value:,}", f"{value:,} USD", f"£{value:,}"])

    def number(self, low: int = 100, high: int = 99999) -> int:
        return self.rng.randint(low, high)

    def order_id(self) -> str:
        letters = "".join(self.rng.choice(string.ascii_uppercase) for _ in range(self.rng.randint(2, 3)))
        return f"{letters}-{self.rng.randint(1000, 999999)}"

    def date(self) -> str:
        return self.pick(
            [
                f"{self.pick(MONTHS)} {self.rng.randint(1, 28)}",
                f"2024-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}",
                f"{self.pick(DAYS)}",
                f"{self.rng.randint(1, 28)} {self.pick(MONTHS)[:3]}",
            ]
        )

    def time(self) -> str:
        return f"{self.rng.randint(7, 18):02d}:{self.pick(['00', '15', '30', '45'])}"

    def path(self) -> str:
        root = self.pick(["/var/log", "/srv/app", "/home/deploy", "~/projects", "/opt/data", "./build"])
        suffix = self.pick(["log", "json", "csv", "txt", "py"])
        return f"{root}/{self.pick(PROJECTS)}/{self.pick(WORDS)}.{suffix}"

    def channel(self) -> str:
        return f"#{self.pick(TEAMS)}-{self.pick(['alerts', 'general', 'ops', 'random', 'releases'])}"

    def phone(self) -> str:
        parts = (self.rng.randint(1, 49), self.rng.randint(100, 999), self.rng.randint(100, 999))
        return f"+{parts[0]} {parts[1]} {parts[2]} {self.rng.randint(1000, 9999)}"
