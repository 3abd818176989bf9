import BatamantaNative
import Glibc

exit(Helper.run())
