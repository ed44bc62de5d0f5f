"""Name pools of the field world (:mod:`bench.field_world`): brands, descriptors and legal forms
of US, British, German and French companies, and their people's given names and surnames
(accents, particles, apostrophes, hyphens, names shared across countries)."""

from __future__ import annotations


def _pool(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


BRANDS = {
    "us": _pool(
        "Northwind, Bluefin, Harborline, Keystone, Redwood, Ironbark, Clearpath, Summitry, "
        "Lakeshore, Copperleaf, Brightwater, Granite, Tidewater, Meridian, Foxglove, Quarry, "
        "Sagebrush, Beacon, Cobalt, Juniper, Driftwood, Larkspur, Silverpine, Tallgrass"
    ),
    "gb": _pool(
        "Thamesbridge, Kestrel, Hawthorn, Ashdown, Wexford, Millbrook, Fenwick, Oakhurst, "
        "Redbourne, Larchmont, Greystone, Whitcombe, Pemberley, Coldharbour, Marlow, Ravensworth"
    ),
    "de": _pool(
        "Sonnenfeld, Rheinwerk, Alpenblick, Nordlicht, Bergquell, Lindenhof, Falkenstein, "
        "Grünwald, Weißenburg, Elbtal, Kranich, Eichenhain, Mühlbach, Sternwarte, Tannberg, "
        "Isartal, Hafenkante, Wiesengrund"
    ),
    "fr": _pool(
        "Lumière, Bellevue, Rivage, Clairval, Beaumont, Valmont, Mistral, Étoile, Orée, "
        "Castelmont, Sablière, Vireo, Montclair, Boréal, Cèdre, Aubépine, Loiret"
    ),
}
DESCRIPTORS = {
    "us": _pool(
        "Security, Analytics, Labs, Payments, Software, Systems, Health, Logistics, Capital, "
        "Robotics, Technologies, Solutions, Consulting, Energy, Networks"
    ),
    "gb": _pool(
        "Consulting, Analytics, Software, Systems, Logistics, Partners, Engineering, Digital, "
        "Payments, Security"
    ),
    "de": _pool("Logistik, Software, Beratung, Technik, Systeme, Maschinenbau, Medien, Energie"),
    "fr": _pool("Conseil, Technologies, Solutions, Services, Ingénierie, Logistique, Énergie"),
}
LEGAL = {
    "us": ("Inc.", "Inc.", "LLC", "Corp.", ""),
    "gb": ("Ltd", "Ltd", "Limited", "plc", ""),
    "de": ("GmbH", "GmbH", "GmbH & Co. KG", "AG", "SE"),
    "fr": ("S.A.S.", "SAS", "SARL", "S.A.", ""),
}
FIRSTS = {
    "us": _pool(
        "Daniel, Sarah, Michael, Jennifer, David, Emily, Christopher, Ashley, Matthew, Jessica, "
        "Andrew, Lauren, Joshua, Megan, Ryan, Rachel, Brandon, Nicole, Tyler, Kayla, Kevin, "
        "Amanda, Justin, Stephanie, Li, Priya, Carlos, Mei"
    ),
    "gb": _pool(
        "Oliver, Amelia, Harry, Isla, George, Poppy, Alfie, Imogen, Freddie, Hannah, Rhys, "
        "Siobhan, Callum, Niamh, Edward, Charlotte, Hamish, Eleanor, Rory, Philippa, Li"
    ),
    "de": _pool(
        "Jörg, Jürgen, Sören, Lena, Lukas, Katrin, Matthias, Sabine, Stefan, Anja, Hans-Peter, "
        "Ulrike, Tobias, Miriam, Jan, Frauke, Maximilian, Annika, Florian, Bärbel, Dominik, "
        "Franziska, Björn, Li"
    ),
    "fr": _pool(
        "Élodie, Hélène, François, Jérôme, Chloé, Amélie, Benoît, Gaëlle, Loïc, Clémence, "
        "Jean-Luc, Marie-Claire, Camille, Mathieu, Léa, Thibault, Margaux, Aurélien, Océane, "
        "Julien, Pauline, Guillaume"
    ),
}
LASTS = {
    "us": _pool(
        "Moreau, Klein, Johnson, Nguyen, Patel, Rodriguez, Thompson, Whitaker, O'Neill, "
        "Kowalczyk, Chen, Sullivan, Delgado, Hartman, Brooks, Fitzgerald, Okafor, Lindgren, "
        "Wagner, Ramirez"
    ),
    "gb": _pool(
        "Ashworth, Pemberton, O'Sullivan, Davies, Llewellyn, Fairbairn, Hughes, Cartwright, "
        "MacLeod, Winterbottom, Whitfield, Smith-Hughes, Okonkwo, Kaur, Wagner"
    ),
    "de": _pool(
        "Großmann, Müller, Schröder, Weiß, Köhler, Hoffmann, Schäfer, Krüger, Wagner, Fischer, "
        "Zimmermann, Hübner, Jäger, von Falkenberg, Becker, Neumann, Kowalczyk, Özdemir"
    ),
    "fr": _pool(
        "Marchand, Lefèvre, Dupont, Bélanger, Rousseau, Gauthier, Mercier, Faure, Lemaître, "
        "Girard, Chevalier, de la Fontaine, Le Goff, Dubois, N'Diaye, Moreau"
    ),
}
MIDDLE_INITIALS = "ABCDEFGHJKLMPRSTW"
