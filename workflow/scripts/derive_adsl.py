from regrowth.derive.adsl import derive_adsl
from regrowth.derive.contracts import check_contract
from regrowth.derive.salt import RS_COLUMNS
from regrowth.parquet_io import read_frame, write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, p, out = snakemake.input, snakemake.params, snakemake.output[0]
    # of RS, what the SALT records and the last visit dates read: a third of its columns
    tables = [read_frame(i[n], columns=RS_COLUMNS if n == "rs" else None) for n in ("dm", "ex", "ds", "mh", "rs", "sv")]
    adsl = derive_adsl(*tables, data_cut=p.data_cut, baseline=p.baseline)
    write_frame(check_contract(adsl, "adsl", where=out), out, output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
