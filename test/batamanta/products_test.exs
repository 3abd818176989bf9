defmodule Batamanta.ProductsTest do
  # Changes the VM's environment, so it cannot run alongside other tests.
  use ExUnit.Case, async: false

  alias Batamanta.Products

  test "BATAMANTA_NATIVE pointing nowhere is a clear error" do
    previous = System.get_env("BATAMANTA_NATIVE")
    System.put_env("BATAMANTA_NATIVE", "/nonexistent/batamanta-native")

    try do
      error = assert_raise Mix.Error, fn -> Products.native_helper!() end
      assert error.message =~ "/nonexistent/batamanta-native"
      assert error.message =~ "mix compile"
    after
      if previous,
        do: System.put_env("BATAMANTA_NATIVE", previous),
        else: System.delete_env("BATAMANTA_NATIVE")
    end
  end
end
