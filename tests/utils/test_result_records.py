"""Every result record of a solver or long run is shaped alike: its values, `result` (a member of
`diffsci.utils.RESULTS`) and `stats` (a dict of counts), as issue 16 asks."""

import dataclasses

import pytest

import diffsci.flows as flows
import diffsci.linalg as linalg
import diffsci.physics as physics
import diffsci.tn as tn

RECORDS = [
    linalg.EigshResult,
    tn.CTMRGResult,
    tn.IPEPSResult,
    physics.CoulombGroundState,
    physics.FitResult,
    physics.ChainEngineeringResult,
    physics.LatticeEngineeringResult,
    physics.VANResult,
    physics.SampleResult,
    flows.FlowTrainResult,
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__name__)
def test_a_record_has_result_and_stats(record):
    fields = {f.name for f in dataclasses.fields(record)}
    assert "result" in fields
    assert "stats" in fields or isinstance(getattr(record, "stats", None), property)
    assert "`result`" in record.__doc__ and "`stats`" in record.__doc__
