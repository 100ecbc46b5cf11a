"""Label catalogues for report output: Dutch (``nl``, the default) and English (``en``).

Every user-visible word in figures, tables and the HTML report comes from here, so a
translation is one dictionary and a missing label is an error, not a silently English
word in a Dutch report.  Templates use ``str.format`` named fields (``{year}``), filled
by the caller with :func:`t`'s keyword arguments.
"""
from __future__ import annotations

from effectmeting.report.number_format import check_language

NL: dict[str, str] = {
    # figure furniture
    "source": "Bron",
    "source_default": "eigen berekeningen met effectmeting",
    "year": "Jaar",
    "effect": "Effect",
    "event_time_axis": "Jaren sinds invoering (0 = jaar van invoering)",
    "reference_period": "Referentieperiode",
    "adoption_year": "Jaar van invoering",
    "confidence_interval": "{level}%-betrouwbaarheidsinterval",
    "cohort_label": "Invoering {year}",
    "never_adopted": "Nooit ingevoerd",
    "mean_outcome": "Gemiddelde",
    "total": "Totaal",
    "euro_per_inhabitant": "euro per inwoner",
    "euro_per_inhabitant_prices": "euro per inwoner, prijzen {year}",
    "cost_line": "Kostenpost",
    "spending": "Lasten",
    # figure titles
    "title_event_study": "Effect op {outcome} per jaar sinds invoering",
    "title_cohort_trends": "{outcome} per invoeringscohort",
    "title_forest": "Geschatte effecten met betrouwbaarheidsintervallen",
    "title_cost_by_domain": "Lasten sociaal domein per taakveld",
    "title_cost_effects": "Effect op de lasten per kostenpost",
    # alt texts (screen readers; also stored in PNG/SVG metadata)
    "alt_event_study": ("Puntschattingen van het effect op {outcome} ({unit}) met {ci} per jaar sinds "
                        "invoering, van {first} tot en met {last}, voor {n} schatter(s): {names}. "
                        "Ongewogen gemiddelde van de schattingen vanaf het jaar van invoering: {post}."),
    "alt_cohort_trends": ("Lijndiagram van het gemiddelde van {outcome} ({unit}) per jaar, {first} tot "
                          "en met {last}, voor {n} groepen gemeenten naar jaar van invoering: {groups}."),
    "alt_forest": ("Puntschattingen met {ci} voor {n} uitkomsten of subgroepen ({unit}): {items}."),
    "alt_cost_by_domain": ("{kind} van de lasten per inwoner ({unit}) per kostenpost, {first} tot en met "
                           "{last}. Laatste jaar: {items}."),
    "alt_cost_effects": ("Geschat effect op de lasten ({unit}) per kostenpost met {ci}: {items}."),
    "kind_lines": "Lijndiagram",
    "kind_area": "Gestapeld vlakdiagram",
    "municipalities_short": "gem.",
    # table columns
    "column.label": "Uitkomst",
    "column.term": "Term",
    "column.outcome": "Uitkomst",
    "column.subgroup": "Subgroep",
    "column.estimator": "Schatter",
    "column.event_time": "Jaren sinds invoering",
    "column.estimate": "Schatting",
    "column.std_error": "Standaardfout",
    "column.statistic": "Toetsingsgrootheid",
    "column.p_value": "p-waarde",
    "column.conf_interval": "{level}%-BI",
    "column.conf_low": "Ondergrens",
    "column.conf_high": "Bovengrens",
    "column.nobs": "Waarnemingen",
    "column.comparison_type": "Vergelijking",
    "column.treated_cohort": "Behandeld cohort",
    "column.control_cohort": "Controlecohort",
    "column.weight": "Gewicht",
    "interval_separator": "; ",
    # report structure
    "report_contents": "Inhoud",
    "section.summary": "Samenvatting",
    "section.methods": "Methoden",
    "section.results": "Resultaten",
    "section.diagnostics": "Diagnostiek",
    "section.caveats": "Kanttekeningen",
    "section.provenance": "Herkomst van de resultaten",
    "generated_by": "Gemaakt met effectmeting",
    "figure": "Figuur",
    "table": "Tabel",
    # label registry (effectmeting.report.labels)
    "spending_taakveld": "lasten taakveld {taakveld}",
    "unit_of": "eenheid van {outcome}",
    "unit_per_1000": "per 1.000 {population}",
    "unit_euro": "euro",
    "unit_euro_per_year": "euro per jaar",
    "unit_euro_per_inhabitant": "euro per inwoner",
    "unit_euro_per_inhabitant_per_year": "euro per inwoner per jaar",
    "unit_prices": "{unit}, prijzen {year}",
    "unit_persons": "personen",
    "unit_share": "aandeel",
    "unit_index": "index",
    "unit_z": "z-score",
    "unit_class": "klasse",
    "taakvelden": "taakvelden {codes}",
    "taakveld_single": "taakveld {code}",
    "added_line": "{name} (andere betaler)",
    "maturity_of": "volwassenheid basisfunctie {function}",
    "design_threshold": "{dimension} {threshold} of hoger",
    "column.design": "Ontwerpkeuze",
    "column.n_units": "Gemeenten",
    "column.p_holm": "p (Holm)",
    "column.p_romano_wolf": "p (Romano-Wolf)",
    "column.test": "Toets",
    "column.df": "Vrijheidsgraden",
    "column.line": "Kostenpost",
    "column.cost_line": "Kostenpost",
    "column.quantity": "Grootheid",
    "column.share": "Aandeel van het gewicht",
    "column.mbar": "M̄",
    "column.bounds": "Grenzen zonder steekproefonzekerheid",
    "column.aggregation": "Aggregatie",
    "column.key": "Sleutel",
    "column.size_class": "Gemeentegrootte (inwoners)",
    "column.urbanity": "Stedelijkheid (1 = zeer sterk stedelijk, 5 = niet stedelijk)",
    "column.deprivation_index": "Achterstandsindex",
    "column.deprivation_index_tercile": "Achterstandsindex (tercielen)",
    "column.population_total": "Inwoners",
    "title_forest_subgroups": "Effect na invoering per subgroep: {by}",
    "caption_subgroups": "Effect per subgroep ({by}), schatter {estimator}; toets op gelijke effecten",
    "subgroup_test": "{outcome}: toets of de effecten tussen de subgroepen gelijk zijn: p = {p}.",
    "subgroup_missing": ("{n} subgroepschattingen ontbreken (–): in die subgroep zijn te weinig gemeenten of geen "
                         "vergelijkingsgemeenten; de reden staat per subgroep in de technische details."),
}

EN: dict[str, str] = {
    "source": "Source",
    "source_default": "own calculations with effectmeting",
    "year": "Year",
    "effect": "Effect",
    "event_time_axis": "Years since adoption (0 = year of adoption)",
    "reference_period": "Reference period",
    "adoption_year": "Year of adoption",
    "confidence_interval": "{level}% confidence interval",
    "cohort_label": "Adopted {year}",
    "never_adopted": "Never adopted",
    "mean_outcome": "Mean",
    "total": "Total",
    "euro_per_inhabitant": "euros per inhabitant",
    "euro_per_inhabitant_prices": "euros per inhabitant, {year} prices",
    "cost_line": "Cost line",
    "spending": "Spending",
    "title_event_study": "Effect on {outcome} by years since adoption",
    "title_cohort_trends": "{outcome} by adoption cohort",
    "title_forest": "Estimated effects with confidence intervals",
    "title_cost_by_domain": "Social-domain spending by taakveld",
    "title_cost_effects": "Effect on spending by cost line",
    "alt_event_study": ("Point estimates of the effect on {outcome} ({unit}) with {ci} by years since "
                        "adoption, from {first} to {last}, for {n} estimator(s): {names}. "
                        "Unweighted mean of the estimates from the adoption year on: {post}."),
    "alt_cohort_trends": ("Line chart of mean {outcome} ({unit}) by year, {first} to {last}, for {n} "
                          "groups of municipalities by year of adoption: {groups}."),
    "alt_forest": ("Point estimates with {ci} for {n} outcomes or subgroups ({unit}): {items}."),
    "alt_cost_by_domain": ("{kind} of spending per inhabitant ({unit}) by cost line, {first} to {last}. "
                           "Last year: {items}."),
    "alt_cost_effects": ("Estimated effect on spending ({unit}) by cost line with {ci}: {items}."),
    "kind_lines": "Line chart",
    "kind_area": "Stacked area chart",
    "municipalities_short": "mun.",
    "column.label": "Outcome",
    "column.term": "Term",
    "column.outcome": "Outcome",
    "column.subgroup": "Subgroup",
    "column.estimator": "Estimator",
    "column.event_time": "Years since adoption",
    "column.estimate": "Estimate",
    "column.std_error": "Std. error",
    "column.statistic": "Statistic",
    "column.p_value": "p-value",
    "column.conf_interval": "{level}% CI",
    "column.conf_low": "Lower bound",
    "column.conf_high": "Upper bound",
    "column.nobs": "Observations",
    "column.comparison_type": "Comparison",
    "column.treated_cohort": "Treated cohort",
    "column.control_cohort": "Control cohort",
    "column.weight": "Weight",
    "interval_separator": ", ",
    "report_contents": "Contents",
    "section.summary": "Summary",
    "section.methods": "Methods",
    "section.results": "Results",
    "section.diagnostics": "Diagnostics",
    "section.caveats": "Caveats",
    "section.provenance": "Provenance",
    "generated_by": "Made with effectmeting",
    "figure": "Figure",
    "table": "Table",
    "spending_taakveld": "spending on taakveld {taakveld}",
    "unit_of": "unit of {outcome}",
    "unit_per_1000": "per 1,000 {population}",
    "unit_euro": "euros",
    "unit_euro_per_year": "euros per year",
    "unit_euro_per_inhabitant": "euros per inhabitant",
    "unit_euro_per_inhabitant_per_year": "euros per inhabitant per year",
    "unit_prices": "{unit}, {year} prices",
    "unit_persons": "persons",
    "unit_share": "share",
    "unit_index": "index",
    "unit_z": "z-score",
    "unit_class": "class",
    "taakvelden": "taakvelden {codes}",
    "taakveld_single": "taakveld {code}",
    "added_line": "{name} (other payer)",
    "maturity_of": "maturity of basic function {function}",
    "design_threshold": "{dimension} {threshold} or higher",
    "column.design": "Design choice",
    "column.n_units": "Municipalities",
    "column.p_holm": "p (Holm)",
    "column.p_romano_wolf": "p (Romano-Wolf)",
    "column.test": "Test",
    "column.df": "Degrees of freedom",
    "column.line": "Cost line",
    "column.cost_line": "Cost line",
    "column.quantity": "Quantity",
    "column.share": "Share of the weight",
    "column.mbar": "M̄",
    "column.bounds": "Bounds without sampling error",
    "column.aggregation": "Aggregation",
    "column.key": "Key",
    "column.size_class": "Municipality size (inhabitants)",
    "column.urbanity": "Urbanity (1 = very strongly urban, 5 = not urban)",
    "column.deprivation_index": "Deprivation index",
    "column.deprivation_index_tercile": "Deprivation index (terciles)",
    "column.population_total": "Inhabitants",
    "title_forest_subgroups": "Effect after adoption by subgroup: {by}",
    "caption_subgroups": "Effect by subgroup ({by}), estimator {estimator}; test of equal effects",
    "subgroup_test": "{outcome}: test that the effects are equal across subgroups: p = {p}.",
    "subgroup_missing": ("{n} subgroup estimates are missing (–): the subgroup has too few municipalities or no "
                         "comparison municipalities; the technical details give the reason per subgroup."),
}

# Iv3 taakvelden of programme 6 (Sociaal domein).  Dutch names are the official BBV names;
# English ones are descriptive translations.
TAAKVELDEN_NL: dict[str, str] = {
    "6.1": "Samenkracht en burgerparticipatie",
    "6.2": "Toegang en eerstelijnsvoorzieningen",
    "6.3": "Inkomensregelingen",
    "6.4": "Begeleide participatie",
    "6.5": "Arbeidsparticipatie",
    "6.6": "Maatwerkvoorzieningen (Wmo)",
    "6.71": "Maatwerkdienstverlening 18+",
    "6.72": "Maatwerkdienstverlening 18-",
    "6.81": "Geëscaleerde zorg 18+",
    "6.82": "Geëscaleerde zorg 18-",
}
TAAKVELDEN_EN: dict[str, str] = {
    "6.1": "Community strength and citizen participation",
    "6.2": "Access and first-line services",
    "6.3": "Income schemes",
    "6.4": "Supported participation",
    "6.5": "Labour participation",
    "6.6": "Tailored provisions (Wmo)",
    "6.71": "Tailored services 18+",
    "6.72": "Tailored services under 18",
    "6.81": "Escalated care 18+",
    "6.82": "Escalated care under 18",
}
for _code in TAAKVELDEN_NL:
    NL[f"taakveld.{_code}"] = TAAKVELDEN_NL[_code]
    EN[f"taakveld.{_code}"] = TAAKVELDEN_EN[_code]

# Report prose (effectmeting.analysis_report, report.summary, report.diagnostics): sentences are
# filled from numbers formatted in the report language, never translated from English strings.
REPORT_NL: dict[str, str] = {
    "section.results_design": "Resultaten: {design}",
    "section.costs": "Maatschappelijke kosten",
    "section.pretrends": "Trends vóór invoering",
    "section.bacon": "Bacon-decompositie van de TWFE-schatting",
    "section.sensitivity": "Gevoeligheid voor afwijkende trends",
    "technical_details": "Technische details (Engels)",
    "compared": ("Ontwerpkeuze: {design}. Vergeleken zijn {n_adopters} gemeenten die dit tussen {first} en "
                 "{last} invoerden met {n_controls} gemeenten die dat {control}, in de jaren {start} tot en met "
                 "{end}. Een positief effect betekent meer gebruik of hogere lasten dan zonder invoering."),
    "control_never": "nooit deden",
    "control_notyet": "nooit of pas later deden",
    "headline": ("De hoofdschatting komt van de methode van Callaway en Sant'Anna: die vergelijkt elke groep "
                 "invoerders alleen met gemeenten die nog niet hadden ingevoerd, zodat effecten die per "
                 "invoeringsjaar of in de tijd verschillen de uitkomst niet vertekenen (bij de klassieke "
                 "TWFE-schatter kan dat wel)."),
    "headline_other": "De hoofdschatting komt van {estimator} (Callaway-Sant'Anna is niet berekend).",
    "effect_sentence": ("{outcome}: na invoering gemiddeld {amount} {unit} {direction} dan zonder invoering "
                        "verwacht (95%-betrouwbaarheidsinterval: {interval})."),
    "effect_missing": "{outcome}: geen schatting (te weinig gemeenten of niet te berekenen).",
    "higher": "hoger",
    "lower": "lager",
    "interval_same": "tussen {low} en {high} {direction}",
    "interval_cross": "van {low} lager tot {high} hoger",
    "certain_excludes_zero": "Het interval ligt geheel {side} nul: dat er geen effect is, is onwaarschijnlijk.",
    "certain_includes_zero": "Het interval bevat nul: de gegevens sluiten niet uit dat er geen effect is.",
    "above": "boven",
    "below": "onder",
    "agree": "De andere schatters die rekening houden met gespreide invoering ({names}) komen op vergelijkbare "
             "waarden ({values}).",
    "disagree": "De andere schatters ({names}) komen op {values}; dat valt deels buiten het interval, dus de "
                "uitkomst hangt af van de methode.",
    "twfe_differs": "De klassieke TWFE-schatting ({value}) ligt buiten het interval; die is bij gespreide "
                    "invoering vaak vertekend (zie de Bacon-decompositie).",
    "pretrend_ok": "Vóór invoering bewogen invoerders en vergelijkingsgemeenten niet aantoonbaar anders "
                   "(toets: p = {p}).",
    "pretrend_doubt": "Vóór invoering liepen de trends al wat uiteen (toets: p = {p}); dat geeft enige twijfel "
                      "aan de vergelijking.",
    "cost_effect": "{line}: de lasten liggen na invoering gemiddeld {amount} {unit} {direction} "
                   "(95%-betrouwbaarheidsinterval: {interval}).",
    "ratio_more_more": ("Per extra {person} horen daar ongeveer {amount} extra lasten ({line}) bij, in euro's "
                        "van {year} (95%-interval {low} tot {high})."),
    "ratio_less_less": ("Per vermeden {person} wordt ongeveer {amount} bespaard ({line}), in euro's van {year} "
                        "(95%-interval {low} tot {high})."),
    "ratio_less_more": ("Er zijn minder {persons}, maar de lasten ({line}) stijgen: ongeveer {amount} extra per "
                        "vermeden {person}, in euro's van {year} (95%-interval {low} tot {high})."),
    "ratio_more_less": ("Er zijn meer {persons}, maar de lasten ({line}) dalen: ongeveer {amount} minder per "
                        "extra {person}, in euro's van {year} (95%-interval {low} tot {high})."),
    "ratio_undefined": ("De kosten per {person} zijn niet te bepalen: het interval van het effect op "
                        "{outcome} bevat nul, dus het is niet zeker dat er meer of minder {persons} zijn."),
    "methods": ("Gegevens: een panel van gemeenten per jaar, op de gemeentegrenzen van {year} (gemeenten die "
                "later fuseerden zijn samengevoegd); bedragen in constante euro's van {base}. Schatters: "
                "{estimators}. Standaardfouten geclusterd per gemeente; p-waarden over de uitkomsten "
                "gecorrigeerd voor meervoudig toetsen ({multiplicity}). Toevalsgetallen met seed {seed}, "
                "dus dezelfde invoer geeft dezelfde uitkomsten."),
    "methods_estimators": ("TWFE is de klassieke regressie met vaste effecten voor gemeente en jaar; "
                           "Callaway-Sant'Anna, Sun-Abraham en imputatie zijn moderne schatters die "
                           "invoerders alleen vergelijken met gemeenten die (nog) niet hebben ingevoerd."),
    "results_intro": ("Figuren per uitkomst: het geschatte effect per jaar sinds invoering volgens elke schatter, "
                      "en het ruwe gemiddelde per groep gemeenten naar invoeringsjaar."),
    "pretrend_intro": ("Een pre-trendtoets kijkt of invoerders en vergelijkingsgemeenten vóór de invoering al "
                       "verschillend bewogen; een p-waarde onder 0,05 wijst daarop en maakt de vergelijking "
                       "minder betrouwbaar."),
    "bacon_intro": ("De Bacon-decompositie splitst de klassieke TWFE-schatting in vergelijkingen tussen groepen "
                    "gemeenten. Vergelijkingen met al ingevoerde gemeenten als controle zijn vertekend als het "
                    "effect in de tijd verandert; hoe groter hun gewicht, hoe minder TWFE te vertrouwen is."),
    "bacon_line": "{outcome}: {share} van het gewicht ligt op vergelijkingen met al ingevoerde gemeenten als "
                  "controle (TWFE-schatting {estimate}).",
    "sensitivity_intro": ("De gevoeligheidsanalyse van Rambachan en Roth vraagt: wat als het trendverschil na "
                          "invoering tot M̄ keer zo groot mag zijn als de grootste verandering vóór invoering? "
                          "Getoond is het gemiddelde effect over de jaren na invoering volgens {estimator} "
                          "(schattingen per jaar), met het bereik dat dan nog mogelijk is."),
    "sensitivity_robust": "{outcome}: het interval blijft aan één kant van nul tot en met M̄ = {mbar}.",
    "sensitivity_fragile": "{outcome}: al bij M̄ = {mbar} bevat het interval nul.",
    "sensitivity_none": "{outcome}: gevoeligheidsanalyse niet mogelijk ({reason}).",
    "sensitivity_summary_robust": ("Ook als de trends na invoering even sterk zouden afwijken als ze vóór invoering "
                                   "hooguit deden, blijft een effect van nul uitgesloten (gevoeligheidsanalyse)."),
    "sensitivity_summary_fragile": ("Als de trends na invoering even sterk zouden afwijken als ze vóór invoering "
                                    "hooguit deden, is een effect van nul niet meer uit te sluiten "
                                    "(gevoeligheidsanalyse)."),
    "caveat_design": ("Het ontwerp werd niet willekeurig toegewezen: de schattingen rusten op de aanname van "
                      "parallelle trends (zonder invoering waren invoerders en vergelijkingsgemeenten gemiddeld "
                      "gelijk opgelopen) en op geen anticipatie (geen effect vóór invoering)."),
    "caveat_switched": ("{n} gemeenten schaften de ontwerpkeuze later weer af; zij tellen niet mee in de "
                        "schattingen."),
    "caveat_merged": ("{n} gemeenten zijn ontstaan uit een herindeling; hun ontwerpgeschiedenis is samengesteld uit "
                      "die van hun voorgangers volgens de regel voor herindelingen. Bij {overruled} daarvan "
                      "verschilden de voorgangers en bepaalde de regel de waarde (zie audit.csv)."),
    "caveat_missing": ("{outcome}: {n} van de {total} gemeenten vallen weg omdat de uitkomst in minstens één jaar "
                       "ontbreekt (bijvoorbeeld kleine aantallen die niet worden gepubliceerd)."),
    "caveat_disclosure": ("{n} schattingen rusten op minder dan {min} gemeenten; hun getallen zijn weggelaten om "
                          "herleidbaarheid te voorkomen."),
    "caveat_pretrend": ("{outcome}: de trends vóór invoering wijken af (p = {p}); lees het effect met extra "
                        "voorzichtigheid."),
    "caption_estimates": "Geschatte gemiddelde effecten na invoering: {design}",
    "caption_pretrends": "Toetsen op trendverschillen vóór invoering: {design}",
    "caption_bacon": "Bacon-decompositie: gewicht per soort vergelijking",
    "caption_sensitivity": "Gevoeligheidsanalyse (relatieve omvang, Rambachan en Roth)",
    "caption_cost_effects": "Effect op de lasten per kostenpost ({unit})",
    "caption_cost_per_outcome": "Kosten per uitkomst: {line} per {person}",
    "quantity.cost_effect": "Effect op de lasten ({unit})",
    "quantity.outcome_effect": "Effect op {outcome} ({unit})",
    "quantity.outcome_effect_per_inhabitant": "Effect in personen per inwoner",
    "quantity.ratio": "Euro per {person}",
    "title_event_study_design": "{outcome}: effect per jaar sinds invoering",
    "title_forest_design": "Gemiddeld effect na invoering per uitkomst en schatter",
    "forest_axis": "Effect (in de eenheid van de uitkomst)",
    "title_cost_by_domain_mean": "Lasten sociaal domein per inwoner, per domein",
    "source_demo": "gegenereerde demonstratiegegevens (geen echte gemeenten)",
    "provenance.analysis": "Analysebestand",
    "provenance.seed": "Seed",
    "provenance.sources": "Bronbestanden (SHA-256)",
    "provenance.reference_year": "Gemeentegrenzen van",
    "provenance.price_base_year": "Prijzen van",
}
REPORT_EN: dict[str, str] = {
    "section.results_design": "Results: {design}",
    "section.costs": "Societal cost",
    "section.pretrends": "Trends before adoption",
    "section.bacon": "Bacon decomposition of the TWFE estimate",
    "section.sensitivity": "Sensitivity to diverging trends",
    "technical_details": "Technical details",
    "compared": ("Design choice: {design}. We compare {n_adopters} municipalities that adopted it between {first} "
                 "and {last} with {n_controls} municipalities that {control}, in the years {start} to {end}. A "
                 "positive effect means more use or higher spending than without adoption."),
    "control_never": "never did",
    "control_notyet": "never did or did so later",
    "headline": ("The headline estimate uses the method of Callaway and Sant'Anna: it compares each group of "
                 "adopters only with municipalities that had not adopted yet, so effects that differ by adoption "
                 "year or over time do not bias it (they can bias the classic TWFE estimator)."),
    "headline_other": "The headline estimate comes from {estimator} (Callaway-Sant'Anna was not run).",
    "effect_sentence": ("{outcome}: after adoption on average {amount} {unit} {direction} than expected without "
                        "adoption (95% confidence interval: {interval})."),
    "effect_missing": "{outcome}: no estimate (too few municipalities or not computable).",
    "higher": "higher",
    "lower": "lower",
    "interval_same": "between {low} and {high} {direction}",
    "interval_cross": "from {low} lower to {high} higher",
    "certain_excludes_zero": "The interval lies entirely {side} zero: that there is no effect is unlikely.",
    "certain_includes_zero": "The interval contains zero: the data do not rule out that there is no effect.",
    "above": "above",
    "below": "below",
    "agree": "The other estimators that allow for staggered adoption ({names}) give similar values ({values}).",
    "disagree": "The other estimators ({names}) give {values}; partly outside the interval, so the result depends "
                "on the method.",
    "twfe_differs": "The classic TWFE estimate ({value}) lies outside the interval; it is often biased under "
                    "staggered adoption (see the Bacon decomposition).",
    "pretrend_ok": "Before adoption, adopters and comparison municipalities did not move detectably differently "
                   "(test: p = {p}).",
    "pretrend_doubt": "Before adoption the trends already diverged somewhat (test: p = {p}); this casts some doubt "
                      "on the comparison.",
    "cost_effect": "{line}: after adoption spending is on average {amount} {unit} {direction} "
                   "(95% confidence interval: {interval}).",
    "ratio_more_more": ("Each additional {person} comes with about {amount} of extra spending ({line}), in {year} "
                        "euros (95% interval {low} to {high})."),
    "ratio_less_less": ("Each {person} avoided saves about {amount} ({line}), in {year} euros (95% interval {low} "
                        "to {high})."),
    "ratio_less_more": ("There are fewer {persons} but spending ({line}) rises: about {amount} extra per {person} "
                        "avoided, in {year} euros (95% interval {low} to {high})."),
    "ratio_more_less": ("There are more {persons} but spending ({line}) falls: about {amount} less per additional "
                        "{person}, in {year} euros (95% interval {low} to {high})."),
    "ratio_undefined": ("The cost per {person} cannot be determined: the interval of the effect on {outcome} "
                        "contains zero, so it is not certain that there are more or fewer {persons}."),
    "methods": ("Data: a panel of municipalities by year on the boundaries of {year} (municipalities that merged "
                "later are combined); money in constant euros of {base}. Estimators: {estimators}. Standard "
                "errors clustered by municipality; p-values adjusted across outcomes for multiple testing "
                "({multiplicity}). Random numbers use seed {seed}, so the same inputs give the same results."),
    "methods_estimators": ("TWFE is the classic regression with municipality and year fixed effects; "
                           "Callaway-Sant'Anna, Sun-Abraham and imputation are modern estimators that compare "
                           "adopters only with municipalities that have not (yet) adopted."),
    "results_intro": ("Figures per outcome: the estimated effect by years since adoption from each estimator, and "
                      "the raw mean per group of municipalities by adoption year."),
    "pretrend_intro": ("A pre-trend test checks whether adopters and comparison municipalities already moved "
                       "differently before adoption; a p-value below 0.05 suggests so and makes the comparison "
                       "less reliable."),
    "bacon_intro": ("The Bacon decomposition splits the classic TWFE estimate into comparisons between groups of "
                    "municipalities. Comparisons that use already-treated municipalities as controls are biased "
                    "when the effect changes over time; the larger their weight, the less TWFE can be trusted."),
    "bacon_line": "{outcome}: {share} of the weight is on comparisons with already-treated municipalities as "
                  "controls (TWFE estimate {estimate}).",
    "sensitivity_intro": ("The Rambachan-Roth sensitivity analysis asks: what if the trend difference after "
                          "adoption may be up to M̄ times the largest change before adoption? Shown is the mean "
                          "effect over the post-adoption years from {estimator} (estimates by year), with the "
                          "range that then remains possible."),
    "sensitivity_robust": "{outcome}: the interval stays on one side of zero up to and including M̄ = {mbar}.",
    "sensitivity_fragile": "{outcome}: already at M̄ = {mbar} the interval contains zero.",
    "sensitivity_none": "{outcome}: sensitivity analysis not possible ({reason}).",
    "sensitivity_summary_robust": ("Even if trends after adoption diverged as much as they did at most before "
                                   "adoption, a zero effect stays ruled out (sensitivity analysis)."),
    "sensitivity_summary_fragile": ("If trends after adoption diverged as much as they did at most before adoption, "
                                    "a zero effect could no longer be ruled out (sensitivity analysis)."),
    "caveat_design": ("The design was not randomly assigned: the estimates rest on parallel trends (without "
                      "adoption, adopters and comparison municipalities would have moved alike on average) and no "
                      "anticipation (no effect before adoption)."),
    "caveat_switched": "{n} municipalities later dropped the design choice; they are left out of the estimates.",
    "caveat_merged": ("{n} municipalities result from a herindeling (merger); their design history combines their "
                      "predecessors' by the merger rule. In {overruled} of them the predecessors differed and the "
                      "rule decided the value (see audit.csv)."),
    "caveat_missing": ("{outcome}: {n} of {total} municipalities are left out because the outcome is missing in at "
                       "least one year (e.g. small counts that are not published)."),
    "caveat_disclosure": ("{n} estimates rest on fewer than {min} municipalities; their numbers are left out to "
                          "prevent disclosure."),
    "caveat_pretrend": "{outcome}: the trends before adoption diverge (p = {p}); read the effect with extra care.",
    "caption_estimates": "Estimated mean effects after adoption: {design}",
    "caption_pretrends": "Tests of trend differences before adoption: {design}",
    "caption_bacon": "Bacon decomposition: weight per comparison type",
    "caption_sensitivity": "Sensitivity analysis (relative magnitudes, Rambachan and Roth)",
    "caption_cost_effects": "Effect on spending per cost line ({unit})",
    "caption_cost_per_outcome": "Cost per outcome: {line} per {person}",
    "quantity.cost_effect": "Effect on spending ({unit})",
    "quantity.outcome_effect": "Effect on {outcome} ({unit})",
    "quantity.outcome_effect_per_inhabitant": "Effect in persons per inhabitant",
    "quantity.ratio": "Euros per {person}",
    "title_event_study_design": "{outcome}: effect by years since adoption",
    "title_forest_design": "Mean effect after adoption by outcome and estimator",
    "forest_axis": "Effect (in the outcome's unit)",
    "title_cost_by_domain_mean": "Social-domain spending per inhabitant, by domain",
    "source_demo": "generated demo data (no real municipalities)",
    "provenance.analysis": "Analysis file",
    "provenance.seed": "Seed",
    "provenance.sources": "Source files (SHA-256)",
    "provenance.reference_year": "Municipal boundaries of",
    "provenance.price_base_year": "Prices of",
}
NL.update(REPORT_NL)
EN.update(REPORT_EN)

CATALOGUES: dict[str, dict[str, str]] = {"nl": NL, "en": EN}


def has_label(key: str, lang: str = "nl") -> bool:
    """Whether ``key`` is in the ``lang`` catalogue."""
    return key in CATALOGUES[check_language(lang)]


def t(key: str, lang: str = "nl", **fields: object) -> str:
    """The label ``key`` in ``lang``, with ``{name}`` fields filled from ``fields``.

    Raises ``KeyError`` naming the key (and the language) when the catalogue lacks it, and
    ``KeyError`` naming the field when a template needs a field that was not given.
    """
    catalogue = CATALOGUES[check_language(lang)]
    if key not in catalogue:
        raise KeyError(f"no {lang!r} label for key {key!r}; add it to effectmeting.report.i18n")
    text = catalogue[key]
    if not fields:
        return text
    try:
        return text.format(**fields)
    except KeyError as missing:
        raise KeyError(f"label {key!r} ({lang}) needs field {missing.args[0]!r}") from None


def taakveld_label(column: str, lang: str = "nl") -> str:
    """Readable name of a taakveld column: ``cost_6_72_per_inhabitant``, ``cost_6_72`` or ``6.72``
    -> ``"6.72 Maatwerkdienstverlening 18-"``; anything else is returned unchanged."""
    code = str(column)
    if code.startswith("cost_"):
        code = code[len("cost_"):]
    if code.endswith("_per_inhabitant"):
        code = code[: -len("_per_inhabitant")]
    code = code.replace("_", ".")
    key = f"taakveld.{code}"
    return f"{code} {t(key, lang)}" if has_label(key, lang) else str(column)
