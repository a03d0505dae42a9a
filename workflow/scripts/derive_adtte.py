from regrowth.derive.adtte import derive_adtte, read_adsalt
from regrowth.derive.contracts import adtte_paramcds, check_contract
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p = snakemake.params
    adsl = read_table(snakemake.input.adsl)
    endpoint = p.relapse["responder_endpoint"]
    adtte = derive_adtte(adsl, read_adsalt(snakemake.input.adsalt), endpoints=p.endpoints,
                         responder_endpoint=endpoint, fraction_lost=p.relapse["fraction_of_regrowth_lost"])
    check_contract(adtte, "adtte", adsl=adsl, paramcds=adtte_paramcds(endpoint), where=snakemake.output[0])
    write_table(adtte, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
