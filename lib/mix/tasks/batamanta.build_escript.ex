defmodule Mix.Tasks.Batamanta.BuildEscript do
  @moduledoc false
  # Run by `Batamanta.Escript` in a `MIX_ENV=prod` subprocess inside the user's project:
  # `mix batamanta.build_escript PATH MAIN_MODULE`. It runs `mix escript.build` with the
  # project's escript config overridden, so the escript lands in batamanta's temporary
  # directory instead of the project and `escript_module:` really is the main module.
  # It writes the build's lib directory to PATH.lib: the parent needs it to find the
  # priv files Mix flattened into the archive.

  use Mix.Task

  @impl true
  def run([path, main_module]) do
    project = Mix.Project.config()

    escript =
      Keyword.merge(project[:escript] || [],
        path: path,
        main_module: String.to_atom(main_module)
      )

    # Mix reads the escript options from the project on top of its stack; pushing the
    # same project again with post config is how Mix itself overrides them.
    module = Mix.Project.get!()
    file = Mix.Project.project_file()
    Mix.Project.pop()
    Mix.ProjectStack.post_config(escript: escript)
    Mix.Project.push(module, file)
    Mix.Task.run("escript.build", [])
    File.write!(path <> ".lib", Path.join(Mix.Project.build_path(), "lib"))
  end
end
