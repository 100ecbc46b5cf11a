"""Report prose catalogues (Dutch and English) used through :func:`effectmeting.report.i18n.t`.

Sentences of the HTML report (:mod:`effectmeting.report.study_report`, :mod:`effectmeting.report.summary`,
:mod:`effectmeting.report.diagnostics`) are filled from numbers formatted in the report language,
never translated from English strings.  Kept apart from the figure and table labels of
:mod:`effectmeting.report.i18n` because this is long text, not short labels.
"""
from __future__ import annotations

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
                 "invoerders alleen met {comparison}, zodat effecten die per invoeringsjaar of in de tijd "
                 "verschillen de uitkomst niet vertekenen (bij de klassieke TWFE-schatter kan dat wel)."),
    "comparison_never": "gemeenten die nooit invoerden",
    "comparison_notyet": "gemeenten die (nog) niet hadden ingevoerd",
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
    "ratio_sample": (" Het gaat om lasten per jaar, berekend op de {n} gemeenten waarvan zowel de lasten als "
                     "het aantal {persons} bekend zijn; daar stijgen de lasten met {cost} euro per inwoner per jaar."),
    "ratio_sample_less": (" Het gaat om lasten per jaar, berekend op de {n} gemeenten waarvan zowel de lasten als "
                          "het aantal {persons} bekend zijn; daar dalen de lasten met {cost} euro per inwoner per "
                          "jaar."),
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
                      "en het ruwe gemiddelde per groep gemeenten naar invoeringsjaar. Vóór invoering toont "
                      "Callaway-Sant'Anna de verandering van jaar op jaar, de andere schatters het verschil met het "
                      "jaar vóór invoering; de TWFE-punten bij -5 en 5 bundelen ook alle jaren daarbuiten."),
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
                          "(schattingen per jaar; trends vóór invoering vanaf 5 jaar ervoor), met het bereik dat "
                          "dan nog mogelijk is. Dit gemiddelde weegt elk jaar na invoering even zwaar en kan daarom "
                          "afwijken van de hoofdschatting."),
    "sensitivity_robust": "{outcome}: het interval blijft aan één kant van nul tot en met M̄ = {mbar}.",
    "sensitivity_fragile": "{outcome}: al bij M̄ = {mbar} bevat het interval nul.",
    "sensitivity_none": "{outcome}: gevoeligheidsanalyse niet mogelijk ({reason}).",
    "reason.no_pre_period": "er is geen schatting van vóór het referentiejaar",
    "reason.too_many_post_periods": "te veel jaren na invoering voor deze methode",
    "reason.other": "de schattingen per jaar voldoen niet aan de voorwaarden; zie de technische details",
    "sensitivity_summary_robust": ("Ook als de trends na invoering even sterk zouden afwijken als ze vóór invoering "
                                   "hooguit deden, blijft een effect van nul uitgesloten (gevoeligheidsanalyse op de "
                                   "{estimator}-schattingen per jaar)."),
    "sensitivity_summary_fragile": ("Als de trends na invoering even sterk zouden afwijken als ze vóór invoering "
                                    "hooguit deden, is een effect van nul niet meer uit te sluiten "
                                    "(gevoeligheidsanalyse op de {estimator}-schattingen per jaar)."),
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
    "caveat_co_adoption": ("Gemeenten die kozen voor ‘{design}’ kozen vaak tegelijk ook voor ‘{other}’ ({n} van "
                           "{total} binnen {k} jaar). Het gevonden effect kan (deels) van die andere keuze komen."),
    "caveat_coinciding": ("{estimator} en {same_as} geven hier precies dezelfde schatting ({outcomes}): bij deze "
                          "opzet (alleen nooit-invoerders als vergelijking, geen covariaten, een volledig panel) "
                          "vallen ze per constructie samen. Dat ze overeenkomen is dus geen onafhankelijke "
                          "bevestiging."),
    "same_estimate": ("{names} geeft per constructie hetzelfde getal als {headline} en telt daarom niet als "
                      "aparte bevestiging."),
    "caption_estimates": "Geschatte gemiddelde effecten na invoering: {design}",
    "caption_pretrends": "Toetsen op trendverschillen vóór invoering: {design}",
    "caption_bacon": "Bacon-decompositie: gewicht per soort vergelijking",
    "caption_sensitivity": "Gevoeligheidsanalyse (relatieve omvang, Rambachan en Roth)",
    "caption_cost_effects": "Effect op de lasten per kostenpost ({unit}); schatter {estimator}, vergeleken met {comparison}",
    "cost_twfe_warning": ("Let op: de kosteneffecten zijn geschat met de klassieke TWFE-schatter, die bij gespreide "
                          "invoering en effecten die in de tijd groeien vertekend kan zijn; gebruik ze alleen ter "
                          "vergelijking."),
    "caption_cost_per_outcome": ("Kosten per uitkomst: {line} per {person} ({n} gemeenten met beide reeksen; "
                                 "daardoor kan het effect op de lasten iets afwijken van dat in de tabel per kostenpost)"),
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
                 "adopters only with {comparison}, so effects that differ by adoption year or over time do not "
                 "bias it (they can bias the classic TWFE estimator)."),
    "comparison_never": "municipalities that never adopted",
    "comparison_notyet": "municipalities that had not (yet) adopted",
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
    "ratio_sample": (" Spending is per year, computed on the {n} municipalities where both spending and the number "
                     "of {persons} are known; there spending rises by {cost} euros per inhabitant per year."),
    "ratio_sample_less": (" Spending is per year, computed on the {n} municipalities where both spending and the "
                          "number of {persons} are known; there spending falls by {cost} euros per inhabitant per "
                          "year."),
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
                      "the raw mean per group of municipalities by adoption year. Before adoption Callaway-Sant'Anna "
                      "shows year-on-year changes, the other estimators the difference with the year before "
                      "adoption; the TWFE points at -5 and 5 also pool all years beyond them."),
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
                          "effect over the post-adoption years from {estimator} (estimates by year; pre-adoption "
                          "trends from 5 years before), with the range that then remains possible. This mean weighs "
                          "every post-adoption year equally and can therefore differ from the headline estimate."),
    "sensitivity_robust": "{outcome}: the interval stays on one side of zero up to and including M̄ = {mbar}.",
    "sensitivity_fragile": "{outcome}: already at M̄ = {mbar} the interval contains zero.",
    "sensitivity_none": "{outcome}: sensitivity analysis not possible ({reason}).",
    "reason.no_pre_period": "there is no estimate before the reference year",
    "reason.too_many_post_periods": "too many post-adoption years for this method",
    "reason.other": "the estimates by year do not meet its conditions; see the technical details",
    "sensitivity_summary_robust": ("Even if trends after adoption diverged as much as they did at most before "
                                   "adoption, a zero effect stays ruled out (sensitivity analysis of the {estimator} "
                                   "estimates by year)."),
    "sensitivity_summary_fragile": ("If trends after adoption diverged as much as they did at most before adoption, "
                                    "a zero effect could no longer be ruled out (sensitivity analysis of the "
                                    "{estimator} estimates by year)."),
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
    "caveat_co_adoption": ("Municipalities that chose ‘{design}’ often chose ‘{other}’ at about the same time "
                           "({n} of {total} within {k} years). The estimated effect may (partly) come from that "
                           "other choice."),
    "caveat_coinciding": ("{estimator} and {same_as} give exactly the same estimate here ({outcomes}): in this "
                          "set-up (never-adopters as the only comparison, no covariates, a balanced panel) they "
                          "coincide by construction. Their agreement is therefore no independent confirmation."),
    "same_estimate": ("{names} gives the same number as {headline} by construction and so does not count as a "
                      "separate confirmation."),
    "caption_estimates": "Estimated mean effects after adoption: {design}",
    "caption_pretrends": "Tests of trend differences before adoption: {design}",
    "caption_bacon": "Bacon decomposition: weight per comparison type",
    "caption_sensitivity": "Sensitivity analysis (relative magnitudes, Rambachan and Roth)",
    "caption_cost_effects": "Effect on spending per cost line ({unit}); estimator {estimator}, compared with {comparison}",
    "cost_twfe_warning": ("Note: the cost effects come from the classic TWFE estimator, which can be biased with "
                          "staggered adoption and effects that grow over time; use them for comparison only."),
    "caption_cost_per_outcome": ("Cost per outcome: {line} per {person} ({n} municipalities with both series, so "
                                 "the cost effect may differ slightly from the table per cost line)"),
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
