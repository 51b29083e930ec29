"""The benchmarks' bookkeeping (not their timings: nothing here measures time).

The committed summary `bench/RESULTS.md`, which the book's appendix shows, must be exactly what
`make bench` renders from the committed `bench/results/*.json`, so it cannot be edited by hand.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import _common  # noqa: E402
import run_all  # noqa: E402
import profile_backends  # noqa: E402
import time_to_accuracy  # noqa: E402
import training_options  # noqa: E402


def stored_results():
    return {name: json.loads((run_all.RESULTS / f"{name}.json").read_text())
            for name in run_all.BENCHMARKS if (run_all.RESULTS / f"{name}.json").exists()}


def test_every_benchmark_has_committed_results_with_provenance():
    results = stored_results()
    assert set(results) == set(run_all.BENCHMARKS)
    for name, result in results.items():
        assert result["command"] == f"python bench/run_all.py --only {name}"
        assert result["date"] and result["machine"]["cpus"] and result["versions"]["tensorflow"]


def test_the_summary_is_rendered_from_the_results():
    assert run_all.SUMMARY.read_text() == run_all.render(stored_results())


def test_the_appendix_includes_the_summary():
    page = (ROOT / "book" / "appendix_performance.md").read_text()
    assert "```{include} ../bench/RESULTS.md" in page


def test_verdicts_compare_each_option_with_its_reference():
    speeds = {"baseline": 10.0, "XLA jit_compile": 18.0, "oneDNN kernels": 70.0,
              "oneDNN + XLA": 20.0, "oneDNN + batch 64": 71.0, "oneDNN + threads": 75.0, "oneDNN + bf16": None}
    verdicts = training_options.verdicts(speeds)
    assert verdicts["XLA jit_compile"] == "helps (1.80x baseline)"
    assert verdicts["oneDNN + XLA"] == "slower (0.29x oneDNN kernels)"
    assert verdicts["oneDNN + batch 64"] == "no clear effect (1.01x oneDNN kernels)"
    assert verdicts["oneDNN + threads"] == "no clear effect (1.07x oneDNN kernels)"  # within the noise band
    assert "oneDNN + bf16" not in verdicts and "baseline" not in verdicts


@pytest.mark.parametrize("batch_size, images, step_ends, expected", [
    (32, 100, [0, 1, 2, 3], (100 - 32) / 3),  # the last batch holds the 4 images left
    (32, 512, [7, 15], 256 / 1),  # steps_per_execution=8: one call for every 8 steps
])
def test_the_batch_clock_counts_the_images_between_the_first_and_the_last_batch(
        monkeypatch, batch_size, images, step_ends, expected):
    clock = _common.batch_clock(batch_size, images)
    for epoch in range(2):
        ticks = iter(float(t) for t in range(len(step_ends)))
        monkeypatch.setattr(_common.time, "perf_counter", lambda: next(ticks))
        clock.on_epoch_begin(epoch)
        for step in step_ends:
            clock.on_train_batch_end(step)
        clock.on_epoch_end(epoch)
    assert clock.images_per_second == [pytest.approx(expected)] * 2


def test_the_batch_clock_refuses_an_epoch_it_cannot_time():
    clock = _common.batch_clock(32, 32)
    clock.on_epoch_begin(0)
    clock.on_train_batch_end(0)
    with pytest.raises(ValueError, match="needs two timed batches an epoch, got 1 .32 images in batches of 32"):
        clock.on_epoch_end(0)


@pytest.mark.parametrize("accuracy, first, seconds", [
    ([0.5, 0.94, 0.951, 0.96], 3, 6.0),
    ([0.5, 0.6], None, None),
])
def test_time_to_accuracy_reads_the_first_epoch_at_the_target(accuracy, first, seconds):
    history = {"val_accuracy": accuracy, "epoch_seconds": [2.0] * len(accuracy)}
    summary = time_to_accuracy.summarise(history, wall_seconds=10.0, target=0.95)
    assert summary["first_epoch_at_target"] == first
    assert summary["seconds_to_target"] == seconds
    # the whole run (10 s) less the epochs after the one that reached the target
    assert summary["wall_seconds_to_target"] == (None if first is None else 10.0 - 2.0 * (len(accuracy) - first))
    assert summary["final_test_accuracy"] == accuracy[-1]


# Op names as each profiler reported them for a ResNet50 training step (TensorFlow 2.21 with oneDNN,
# PyTorch 2.13), and the family `profile_backends` must put them in.
@pytest.mark.parametrize("engine, op_name, family", [
    ("tensorflow", "_MklNativeFusedConv2D", "convolution, forward"),
    ("tensorflow", "_MklNativeConv2DBackpropFilterWithBias", "convolution, backward"),
    ("tensorflow", "_MklNativeConv2DBackpropInput", "convolution, backward"),
    ("tensorflow", "SquaredDifference", "batch norm, element-wise and reductions"),
    ("tensorflow", "ReluGrad", "batch norm, element-wise and reductions"),
    ("tensorflow", "AssignAddVariableOp", "optimizer and variable updates"),
    ("tensorflow", "MaxPoolGrad", "pooling"),
    ("tensorflow", "_MklMatMul", "dense layer (matrix multiply)"),
    ("torch", "aten::mkldnn_convolution", "convolution, forward"),
    ("torch", "aten::convolution_backward", "convolution, backward"),
    ("torch", "aten::native_batch_norm_backward", "batch norm, element-wise and reductions"),
    ("torch", "aten::threshold_backward", "batch norm, element-wise and reductions"),
    ("torch", "aten::copy_", "copies, layout and allocation"),
    ("torch", "Optimizer.step#SGD.step", "optimizer and variable updates"),
    ("torch", "aten::max_pool2d_with_indices_backward", "pooling"),
    ("torch", "aten::addmm", "dense layer (matrix multiply)"),
    ("torch", "ProfilerStep#3", "other"),
])
def test_profile_ops_are_put_in_their_family(engine, op_name, family):
    assert profile_backends.classify(engine, op_name) == family


def test_profile_refuses_an_unknown_engine():
    with pytest.raises(ValueError, match="engine must be one of.*'mxnet'"):
        profile_backends.classify("mxnet", "Conv2D")


# Part of an optimised XLA module as `--xla_dump_hlo_as_text` writes it (JAX 0.10, a ResNet50 step):
# two fusions with the same kind of name, one a convolution, one a reduction.
HLO = """\
%fused_computation.439 (param_0.1: f32[32,16,16,64], param_1.2: f32[]) -> f32[64] {
  %param_0.1 = f32[32,16,16,64]{3,2,1,0} parameter(0)
  %param_1.2 = f32[] parameter(1)
  ROOT %reduce_sum.1 = f32[64]{0} reduce(%param_0.1, %param_1.2), dimensions={0,1,2}, to_apply=%region_1.2
}

%fused_computation.440 (param_0.3: f32[32,38,38,3], param_1.4: f32[7,7,3,64]) -> f32[32,16,16,64] {
  %param_0.3 = f32[32,38,38,3]{3,2,1,0} parameter(0)
  %param_1.4 = f32[7,7,3,64]{3,2,1,0} parameter(1)
  ROOT %convolution.3 = f32[32,16,16,64]{3,2,1,0} convolution(%param_0.3, %param_1.4), window={size=7x7 stride=2x2}
}

%fused_computation.871 (param_0.5: f32[64,64]) -> f32[1,1,64,64] {
  %param_0.5 = f32[64,64]{1,0} parameter(0)
  %transpose.1 = f32[64,64]{0,1} transpose(%param_0.5), dimensions={1,0}
  ROOT %bitcast.2 = f32[1,1,64,64]{3,2,1,0} bitcast(%transpose.1)
}

ENTRY %main.1 (data_0_.1: f32[32,38,38,3], state_0__0_.1: f32[7,7,3,64]) -> f32[64] {
  %data_0_.1 = f32[32,38,38,3]{3,2,1,0} parameter(0)
  %state_0__0_.1 = f32[7,7,3,64]{3,2,1,0} parameter(1)
  %ynn_fusion.440 = f32[32,16,16,64]{3,2,1,0} fusion(%data_0_.1, %state_0__0_.1), kind=kCustom, calls=%fused_computation.440
  %ynn_fusion.439 = f32[64]{0} fusion(%ynn_fusion.440, %constant.279), kind=kCustom, calls=%fused_computation.439
  %transpose_copy_fusion.95 = f32[1,1,64,64]{3,2,1,0} fusion(%copy.337), kind=kLoop, calls=%fused_computation.871
  %wrapped_reduce-window.1 = (f32[32,8,8,64]{3,2,1,0}, s32[32,8,8,64]{3,2,1,0}) fusion(%x), kind=kLoop, calls=%window.1
  %convolution.7 = f32[8,8]{1,0} convolution(%a, %b), window={size=1x1}
  ROOT %dot.1 = f32[32,6]{1,0} dot(%c, %d), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

%window.1 (param_0.9: f32[32,16,16,64]) -> (f32[32,8,8,64], s32[32,8,8,64]) {
  ROOT %reduce-window.1 = f32[32,8,8,64]{3,2,1,0} reduce-window(%param_0.9), window={size=3x3 stride=2x2}
}
"""


def test_xla_instructions_are_put_in_the_family_of_what_they_run():
    families = profile_backends.hlo_families(HLO)
    assert families["ynn_fusion.440"] == "convolution, forward and backward"
    assert families["ynn_fusion.439"] == "batch norm, element-wise and reductions"
    assert families["transpose_copy_fusion.95"] == "copies, layout and allocation"
    assert families["wrapped_reduce-window.1"] == "pooling"  # its computation comes after the caller
    assert families["convolution.7"] == "convolution, forward and backward"
    assert families["dot.1"] == "dense layer (matrix multiply)"


def test_profile_milliseconds_are_shares_of_the_step_time():
    seconds = {"conv": 3.0, "relu": 1.0, "copy": 0.0}
    families = {"conv": "convolution, forward", "relu": "batch norm, element-wise and reductions",
                "copy": "copies, layout and allocation"}
    assert profile_backends.summarise(seconds, families, step_seconds=0.2) == {
        "convolution, forward": pytest.approx(150.0), "batch norm, element-wise and reductions": pytest.approx(50.0)}
    with pytest.raises(ValueError, match="no op time"):
        profile_backends.summarise({"conv": 0.0}, families, step_seconds=0.2)


def test_xla_instructions_name_the_operation_they_came_from():
    line = ('  %conv_general_dilated.209 = f32[7,7,3,64]{3,2,1,0} convolution(%a, %b), window={size=7x7}, '
            'metadata={op_name="jit(train_step)/transpose(jvp(conv1_conv))/conv_general_dilated" stack_frame_id=1}\n')
    assert profile_backends.hlo_op_names(HLO + line) == {
        "conv_general_dilated.209": "jit(train_step)/transpose(jvp(conv1_conv))/conv_general_dilated"}
