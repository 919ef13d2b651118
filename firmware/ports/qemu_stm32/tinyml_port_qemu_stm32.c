/* tinyml firmware port: the emulated STM32F405 (QEMU netduinoplus2), bare metal.
 * Console on USART1 (polled), timing with TIM2 as a free-running 32-bit counter (under
 * `-icount shift=0` it advances once per executed instruction), exit through semihosting.
 * Register addresses come from the board file (tinyml_board.h). */
#include <stdint.h>

#include "tinyml_board.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define USART_SR REG(TM_USART_BASE + 0x00u)
#define USART_DR REG(TM_USART_BASE + 0x04u)
#define USART_BRR REG(TM_USART_BASE + 0x08u)
#define USART_CR1 REG(TM_USART_BASE + 0x0Cu)
#define USART_SR_TXE (1u << 7)
#define USART_SR_RXNE (1u << 5)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)
#define TIM_CR1 REG(TM_TIMER_BASE + 0x00u)
#define TIM_EGR REG(TM_TIMER_BASE + 0x14u)
#define TIM_CNT REG(TM_TIMER_BASE + 0x24u)
#define TIM_PSC REG(TM_TIMER_BASE + 0x28u)
#define TIM_ARR REG(TM_TIMER_BASE + 0x2Cu)
#define CPACR REG(0xE000ED88u)

#ifdef TM_ENERGY_MODE
#define TS_MODER REG(TM_TIMESTAMP_GPIO_BASE + 0x00u)
#define TS_OTYPER REG(TM_TIMESTAMP_GPIO_BASE + 0x04u)
#define TS_BSRR REG(TM_TIMESTAMP_GPIO_BASE + 0x18u)

/* The timestamp pin as an open-drain output, released (high) first so the first edge is a fall. */
static void timestamp_init(void) {
  REG(TM_RCC_BASE + TM_RCC_AHB1ENR_OFFSET) |= TM_RCC_TIMESTAMP_GPIO_ENABLE;
  TS_BSRR = 1u << TM_TIMESTAMP_PIN;
  TS_OTYPER |= 1u << TM_TIMESTAMP_PIN;
  TS_MODER = (TS_MODER & ~(3u << (2u * TM_TIMESTAMP_PIN))) | (1u << (2u * TM_TIMESTAMP_PIN));
}

void tm_port_timestamp(void) {
  TS_BSRR = 1u << (TM_TIMESTAMP_PIN + 16u); /* reset: the falling edge */
  uint32_t start = TIM_CNT, hold = (uint32_t)((uint64_t)TM_TIMER_HZ * TM_TIMESTAMP_LOW_US / 1000000u);
  while (TIM_CNT - start < hold) {
  }
  TS_BSRR = 1u << TM_TIMESTAMP_PIN;
}
#endif

void tm_port_init(void) {
  REG(TM_RCC_BASE + TM_RCC_APB2ENR_OFFSET) |= TM_RCC_USART_ENABLE;
  REG(TM_RCC_BASE + TM_RCC_APB1ENR_OFFSET) |= TM_RCC_TIMER_ENABLE;
  USART_BRR = TM_BOARD_CLOCK_HZ / TM_BOARD_BAUD;
  /* Polled, no WFI: sleeping under -icount lets QEMU warp the virtual clock, and the warp can land
   * inside the next timed inference (a few dozen ticks of jitter); spinning keeps counts exact. */
  USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
  TIM_PSC = 0;
  TIM_ARR = 0xFFFFFFFFu;
  TIM_EGR = 1u;
  TIM_CR1 = 1u;
#ifdef TM_ENERGY_MODE
  timestamp_init();
#endif
}

void tm_port_write(const char *data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    while ((USART_SR & USART_SR_TXE) == 0u) {
    }
    USART_DR = (uint8_t)data[i];
  }
}

int tm_port_read(void) { return (USART_SR & USART_SR_RXNE) ? (int)(USART_DR & 0xFFu) : -1; }

uint32_t tm_port_ticks(void) { return TIM_CNT; }
uint32_t tm_port_ticks_hz(void) { return TM_TIMER_HZ; }
const char *tm_port_tick_unit(void) { return "instructions"; }

void tm_port_exit(int code) {
  /* SYS_EXIT_EXTENDED (0x20) with ADP_Stopped_ApplicationExit (0x20026) and the exit code. */
  volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
  register uint32_t r0 __asm__("r0") = 0x20u;
  register volatile uint32_t *r1 __asm__("r1") = block;
  __asm__ volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {
  }
}

/* --- start-up ------------------------------------------------------------------------------ */

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern void __libc_init_array(void);
int main(void);

void Reset_Handler(void) {
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
  CPACR |= 0xFu << 20; /* enable the FPU before the first float instruction */
  __asm__ volatile("dsb\n isb");
  __libc_init_array();
  tm_port_exit(main());
}

/* -nostartfiles drops crti/crtn and crtbegin; __libc_init_array still calls _init, and C++
 * static objects register their destructors against __dso_handle. */
void _init(void) {}
void _fini(void) {}
void *__dso_handle = &__dso_handle;

void Default_Handler(void) { tm_port_exit(3); }
void HardFault_Handler(void) { tm_port_exit(4); }

__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, HardFault_Handler, Default_Handler,
    Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler,
    Default_Handler,
};

int main(void) {
  tm_app_run();
  return 0;
}
