"""The PruneLang kernel against jupyter_kernel_test's conformance suite (every sample set):
stdout and stderr streams, execute_result, display_data with an SVG figure, completion,
is_complete, errors, inspect, history (tail, range, search), clear_output and the pager (`?name`). The kernelspec is
the one conftest.py installs into a temporary prefix."""
import jupyter_kernel_test


class PruneLangKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "prunelang"
    language_name = "prunelang"
    file_extension = ".prune"

    code_hello_world = 'print("hello, world")'
    code_stderr = 'eprint("something went to stderr")'
    completion_samples = [
        {"text": "svdv", "matches": {"svdvals"}},
        {"text": "stable_r", "matches": {"stable_rank"}},
    ]
    complete_code_samples = ["1 + 1", "x = [1, 2]", "fn f(a) { a * 2 }", ""]
    incomplete_code_samples = ["fn f(a) {", "x = [1,", "y = 1 +"]
    invalid_code_samples = ["x = )", "1 + }"]
    code_generate_error = "no_such_function(1)"
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"prune" + "lang"', "result": '"prunelang"'},
        {"code": "svdvals(matrix([[3, 0], [0, 4]]))", "result": "[4, 3]"},
    ]
    code_display_data = [
        {"code": 'display(plot([3, 1, 2], title="t"))', "mime": "image/svg+xml"},
        {"code": 'display(table([{a: 1, b: 2}]))', "mime": "text/html"},
    ]
    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "svdvals"
    code_clear_output = 'print("before"); clear_output()'
    code_page_something = "?svdvals"
