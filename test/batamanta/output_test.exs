defmodule Batamanta.OutputTest do
  # Swaps the global Mix.shell/0 to capture what is printed.
  use ExUnit.Case, async: false

  alias Batamanta.Output

  describe "mode/3" do
    test "a terminal gets progress" do
      assert Output.mode(%{"TERM" => "xterm-256color"}, true, false) == :tty
    end

    test "no terminal, CI, TERM=dumb or NO_COLOR give plain lines" do
      assert Output.mode(%{"TERM" => "xterm-256color"}, false, false) == :plain
      assert Output.mode(%{"CI" => "true"}, true, false) == :plain
      assert Output.mode(%{"CI" => "1"}, true, false) == :plain
      assert Output.mode(%{"TERM" => "dumb"}, true, false) == :plain
      assert Output.mode(%{"NO_COLOR" => "1"}, true, false) == :plain
    end

    test "CI=false and empty values do not count" do
      assert Output.mode(%{"CI" => "false", "NO_COLOR" => ""}, true, false) == :tty
      assert Output.mode(%{"CI" => ""}, true, false) == :tty
    end

    test "--quiet wins" do
      assert Output.mode(%{}, true, true) == :quiet
      assert Output.mode(%{"CI" => "true"}, false, true) == :quiet
    end
  end

  describe "progress_line/3" do
    test "a pack shows a bar, the percentage and the bytes" do
      line = Output.progress_line("compressing", %{stage: "pack", done: 512, total: 2048}, 10)
      assert line == "  compressing [######------------------] 25% 512 B / 2.0 KiB"
    end

    test "a download adds the rate" do
      progress = %{stage: "download", done: 3 * 1024 * 1024, total: 6 * 1024 * 1024}
      line = Output.progress_line("OTP-26.2.5", progress, 2000)
      assert line =~ "50% 3.0 MiB / 6.0 MiB"
      assert line =~ "1.5 MiB/s"
    end

    test "an unknown total shows the bytes only" do
      progress = %{stage: "download", done: 2048, total: 0}
      assert Output.progress_line("x", progress, 0) == "  x 2.0 KiB  0 B/s"
    end

    test "never contains control characters" do
      line = Output.progress_line("x", %{stage: "pack", done: 7, total: 7}, 1)
      refute line =~ ~r/[\x00-\x1f]/
    end
  end

  describe "printing" do
    setup do
      Mix.shell(Mix.Shell.Process)
      on_exit(fn -> Mix.shell(Mix.Shell.IO) end)
    end

    test "a step prints what it did and how long it took" do
      assert Output.step(%Output{mode: :plain}, fn -> {42, "did a thing"} end) == 42
      assert_received {:mix_shell, :info, [line]}
      assert line =~ ~r/^\* did a thing \(\d+(\.\d)? ms\)$/
    end

    test "quiet prints no steps and only the output path in the summary" do
      out = %Output{mode: :quiet}
      assert Output.step(out, fn -> {:ok, "did a thing"} end) == :ok
      Output.summary(out, %{output: "/tmp/hello"})
      assert_received {:mix_shell, :info, ["/tmp/hello"]}
      refute_received {:mix_shell, :info, _}
    end

    test "plain mode draws no progress" do
      on_progress = Output.progress(%Output{mode: :plain}, "x")

      stderr =
        ExUnit.CaptureIO.capture_io(:stderr, fn ->
          stdout =
            ExUnit.CaptureIO.capture_io(fn ->
              for done <- [0, 1, 2], do: on_progress.(%{stage: "pack", done: done, total: 2})
            end)

          send(self(), {:stdout, stdout})
        end)

      assert stderr == ""
      assert_received {:stdout, ""}
      refute_received {:mix_shell, _, _}
    end

    test "retries and lock waits are lines of their own, except in quiet mode" do
      retry = %{stage: "retry", done: 1, total: 2, message: "http://m/x answered HTTP 500"}

      for mode <- [:plain, :tty] do
        on_progress = Output.progress(%Output{mode: mode}, "OTP-25.2.3.tar.gz")
        on_progress.(retry)
        on_progress.(%{stage: "lock", done: 0, total: 0})

        assert_received {:mix_shell, :info,
                         ["  http://m/x answered HTTP 500; retrying (attempt 2 of 2)"]}

        assert_received {:mix_shell, :info, [lock]}
        assert lock == "  waiting for another build that is using OTP-25.2.3.tar.gz"
      end

      quiet = Output.progress(%Output{mode: :quiet}, "x")
      quiet.(retry)
      quiet.(%{stage: "lock", done: 0, total: 0})
      refute_received {:mix_shell, _, _}
    end

    test "the summary has every fact and the compression ratio" do
      Output.summary(%Output{mode: :plain}, facts())
      assert_received {:mix_shell, :info, [summary]}

      for expected <- [
            "/out/hello",
            "size         4.0 MiB (payload 3.0 MiB, 9.0 MiB uncompressed)",
            "target       x86_64-linux-gnu (needs libc gnu 2.34)",
            "erts         13.1.5 (OTP 25.2.3)",
            "format       release (hello 0.1.0)",
            "mode         cli",
            "compression  zstd 9, ratio 3.00:1",
            "sha256       abc123"
          ],
          do: assert(summary =~ expected)

      refute summary =~ "\e"
    end
  end

  test "ratio, bytes and duration" do
    assert Output.ratio(10_485_760, 4_928_307) == "2.13:1"
    assert Output.ratio(1, 0) == "n/a"
    assert Output.bytes(1023) == "1023 B"
    assert Output.bytes(1536) == "1.5 KiB"
    assert Output.duration(4_200) == "4.2 ms"
    assert Output.duration(312_000) == "312 ms"
    assert Output.duration(12_500_000) == "12.5 s"
  end

  defp facts do
    mib = 1024 * 1024

    %{
      output: "/out/hello",
      binary: %{size: 4 * mib, sha256: "abc123"},
      payload: %{size: 3 * mib, uncompressed: 9 * mib},
      target: %{triple: "x86_64-linux-gnu"},
      erts: %{otp_version: "25.2.3"},
      staged: %{erts_version: "13.1.5", name: "hello", version: "0.1.0"},
      libc: "gnu 2.34",
      config: %Batamanta.Config{format: :release, execution_mode: :cli, compression: 9}
    }
  end
end
