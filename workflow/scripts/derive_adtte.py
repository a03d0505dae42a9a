from regrowth.derive.adtte import DEFAULT_TIME_TO_EVENT, adtte_paramcds_of, derive_adtte, read_adsalt
from regrowth.derive.contracts import check_contract
from regrowth.parquet_io import read_frame, write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, p, out = snakemake.input, snakemake.params, snakemake.output[0]
    adsl = read_frame(i.adsl)
    endpoint = p.relapse["responder_endpoint"]
    adtte = derive_adtte(adsl, read_adsalt(i.adsalt), endpoints=p.endpoints, responder_endpoint=endpoint,
                         fraction_lost=p.relapse["fraction_of_regrowth_lost"], time_to_event=p.time_to_event)
    paramcds = adtte_paramcds_of(p.time_to_event or DEFAULT_TIME_TO_EVENT, endpoint)
    write_frame(check_contract(adtte, "adtte", adsl=adsl, paramcds=paramcds, where=out), out, output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
