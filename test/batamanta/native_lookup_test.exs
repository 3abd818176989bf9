defmodule Batamanta.NativeLookupTest do
  # Changes the VM's environment, so it cannot run alongside other tests.
  use ExUnit.Case, async: false

  alias Batamanta.Native

  test "BATAMANTA_NATIVE pointing nowhere is a clear error" do
    previous = System.get_env("BATAMANTA_NATIVE")
    System.put_env("BATAMANTA_NATIVE", "/nonexistent/batamanta-native")

    try do
      error = assert_raise Mix.Error, fn -> Native.executable_path!() end
      assert error.message =~ "/nonexistent/batamanta-native"
      assert error.message =~ "mix compile"
    after
      if previous,
        do: System.put_env("BATAMANTA_NATIVE", previous),
        else: System.delete_env("BATAMANTA_NATIVE")
    end
  end
end
