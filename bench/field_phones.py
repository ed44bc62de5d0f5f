"""Company and personal numbers of the field world (:mod:`bench.field_world`) in each country's
written forms: US ``(415) 555-0100 ext. 12`` / ``x204`` (the 555-01xx fiction range), British
``020 7946 0xxx`` and ``07700 900xxx`` (Ofcom's drama ranges) with or without ``+44 (0)``, German
``+49 30 1234567-214`` (a direct-dial suffix after the trunk), French ``01 23 45 67 89``."""

from __future__ import annotations

import random
from typing import Any

from bench.spec import phone_key


class Numbers:
    """Numbers of one company in its country's formats (fictional ranges where they exist)."""

    def __init__(self, rng: random.Random, locale: str, index: int) -> None:
        self.rng, self.locale, self.index = rng, locale, index
        self.used: set[str] = set()
        if locale == "us":
            self.area = rng.choice(("212", "415", "646", "312", "617", "303", "512"))
            self.base = None
        elif locale == "gb":
            self.base = None
        elif locale == "de":
            self.city = rng.choice(("30", "89", "40", "69", "221"))
            digits = 7 if self.city in ("30", "89", "40", "69") else 6
            self.trunk = "".join(rng.choice("23456789") for _ in range(digits))
        else:
            self.city = rng.choice(("1", "4", "5"))
            self.block = f"{rng.randint(40, 79)} {rng.randint(10, 99)}"

    def _fresh(self, make: Any) -> str:
        for _ in range(200):
            text = make()
            key = phone_key(text, self.region)
            if key not in self.used:
                self.used.add(key or text)
                return text
        raise RuntimeError("no free number")

    @property
    def region(self) -> str:
        return {"us": "US", "gb": "GB", "de": "DE", "fr": "FR"}[self.locale]

    def switchboard(self) -> str:
        rng = self.rng
        if self.locale == "us":
            return self._fresh(lambda: f"({self.area}) 555-01{rng.randint(0, 9)}0")
        if self.locale == "gb":
            return self._fresh(lambda: f"020 7946 0{rng.randint(0, 9)}00")
        if self.locale == "de":
            return self._fresh(lambda: f"+49 {self.city} {self.trunk}-0")
        return self._fresh(lambda: f"0{self.city} {self.block} {rng.randint(10, 99)} 00")

    def line(self, what: str) -> str:
        """A fax or support line."""
        rng = self.rng
        if self.locale == "us":
            return self._fresh(lambda: f"({self.area}) 555-01{rng.randint(10, 99)}")
        if self.locale == "gb":
            return self._fresh(lambda: f"020 7946 0{rng.randint(100, 999)}")
        if self.locale == "de":
            return self._fresh(
                lambda: f"+49 {self.city} {self.trunk}-{99 if what == 'fax' else 100}"
            )
        return self._fresh(lambda: f"0{self.city} {self.block} {rng.randint(10, 99)} 99")

    def direct(self, switchboard: str, style: str) -> tuple[str, str]:
        """(as written on the page, kind) of a person's own number."""
        rng = self.rng
        if style == "extension" and self.locale in ("us", "gb"):
            form = rng.choice(("{s} ext. {e}", "{s} x{e}", "{s}, Ext. {e}"))
            return self._fresh(lambda: form.format(s=switchboard, e=rng.randint(10, 399))), "direct"
        if rng.random() < 0.3:
            return self.mobile(), "mobile"
        if self.locale == "us":
            form = rng.choice(("({a}) 555-{n}", "{a}.555.{n}", "+1 {a} 555 {n}", "{a}-555-{n}"))
            return self._fresh(
                lambda: form.format(a=self.area, n=f"01{rng.randint(10, 99)}")
            ), "direct"
        if self.locale == "gb":
            form = rng.choice(("020 7946 {n}", "+44 20 7946 {n}", "+44 (0)20 7946 {n}"))
            return self._fresh(lambda: form.format(n=f"0{rng.randint(100, 999)}")), "direct"
        if self.locale == "de":
            form = rng.choice(("+49 {c} {t}-{e}", "0{c} {t}-{e}", "+49 ({c}) {t}-{e}"))
            return self._fresh(
                lambda: form.format(c=self.city, t=self.trunk, e=rng.randint(11, 399))
            ), "direct"
        form = rng.choice(("0{c} {b} {n}", "+33 {c} {b} {n}", "0{c}.{bd}.{n}"))
        return self._fresh(
            lambda: form.format(
                c=self.city,
                b=self.block,
                bd=self.block.replace(" ", "."),
                n=f"{rng.randint(10, 98):02d}"
                + (" " if "." not in form else ".")
                + f"{rng.randint(10, 98):02d}",
            )
        ), "direct"

    def mobile(self) -> str:
        rng = self.rng
        if self.locale == "us":
            return self._fresh(lambda: f"({self.area}) 555-01{rng.randint(10, 99)}")
        if self.locale == "gb":
            form = rng.choice(("07700 900{n}", "+44 7700 900{n}", "+44 (0)7700 900{n}"))
            return self._fresh(lambda: form.format(n=f"{rng.randint(0, 999):03d}"))
        if self.locale == "de":
            prefix = rng.choice(("151", "160", "171", "176"))
            form = rng.choice(("0{p} {a} {b}", "+49 {p} {a} {b}", "0{p}/{a}{b}"))
            return self._fresh(
                lambda: form.format(p=prefix, a=rng.randint(1000, 9999), b=rng.randint(1000, 9999))
            )
        form = rng.choice(("06 {a} {b} {c} {d}", "+33 6 {a} {b} {c} {d}", "07 {a} {b} {c} {d}"))
        return self._fresh(lambda: form.format(**{k: rng.randint(10, 99) for k in "abcd"}))


def number_kind(written: str, region: str) -> str:
    """``mobile`` when the number's own range is mobile (phonenumbers; the UK ``07`` ranges
    Ofcom keeps for drama count as mobile too), else ``direct``."""
    import phonenumbers

    number = phonenumbers.parse(written, region)
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
        return "mobile"
    if number.country_code == 44 and str(number.national_number).startswith("7"):
        return "mobile"
    return "direct"
