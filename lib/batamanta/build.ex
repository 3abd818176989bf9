defmodule Batamanta.Build do
  @moduledoc """
  What flows through one `mix batamanta` run, step by step (see `Batamanta.Pipeline`).

  The first fields are known before any step runs; each step fills in the ones it
  makes, so a field is `nil` until its step has run:

    * `config`, `project`, `out` - the resolved `Batamanta.Config`, the project's
      `Mix.Project.config/0` and the `Batamanta.Output` of the run;
    * `native`, `tmp` - the helper port and the run's private temporary directory;
    * `host`, `target` - this machine and the `Batamanta.Target` being built for;
    * `dispenser` - the path of the dispenser that heads the binary;
    * `erts`, `builder` - the provisioned `Batamanta.ERTS` of the target, and the
      runtime that builds the project (`Batamanta.ERTS.builder/2`);
    * `escript`, `build_lib` - for `format: :escript`, the escript the project's build
      made (read back as a `Batamanta.Escript`) and that build's `_build/prod/lib`;
    * `staged` - the `Batamanta.Staged` tree to pack: for a release, the one `mix
      release` made, trimmed in place; for an escript, the minimal runtime holding it;
    * `libc`, `needs` - what the staged runtime needs from the target: the libc
      requirement (`"gnu 2.34"`) and `[{library, [file basename]}]` its NIFs load;
    * `metadata` - the launch spec records;
    * `payload`, `output`, `binary` - the helper's `:pack` result (with its `:path`), the
      output path and the helper's `:assemble` result.
  """

  alias Batamanta.{Config, ERTS, Escript, Native, Output, Staged, Target}

  defstruct [
    :config,
    :project,
    :out,
    :native,
    :tmp,
    :host,
    :target,
    :dispenser,
    :erts,
    :builder,
    :escript,
    :build_lib,
    :staged,
    :libc,
    :metadata,
    :payload,
    :output,
    :binary,
    needs: []
  ]

  @type t :: %__MODULE__{
          config: Config.t(),
          project: keyword(),
          out: Output.t(),
          native: Native.t() | nil,
          tmp: Path.t() | nil,
          host: map() | nil,
          target: Target.t() | nil,
          dispenser: Path.t() | nil,
          erts: ERTS.t() | nil,
          builder: ERTS.t() | nil,
          escript: Escript.t() | nil,
          build_lib: Path.t() | nil,
          staged: Staged.t() | nil,
          libc: String.t() | nil,
          needs: [{String.t(), [String.t()]}],
          metadata: [{String.t(), String.t()}] | nil,
          payload: map() | nil,
          output: Path.t() | nil,
          binary: map() | nil
        }
end
