/* tinyml firmware port: STM32 with STM32Cube HAL (PlatformIO framework = stm32cube).
 * Console on the ST-LINK virtual COM port UART, timing with the DWT cycle counter. The UART
 * instance, pins and HAL header come from the board file (tinyml_board.h). */
#include TM_HAL_HEADER

#include "tinyml_board.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"

static UART_HandleTypeDef g_uart;

void SysTick_Handler(void) { HAL_IncTick(); }

#ifdef TM_ENERGY_MODE
/* The timestamp pin as an open-drain output, released (high) first so the first edge is a fall. */
static void timestamp_init(void) {
  TM_TIMESTAMP_GPIO_CLK_ENABLE();
  HAL_GPIO_WritePin(TM_TIMESTAMP_GPIO_PORT, TM_TIMESTAMP_PIN, GPIO_PIN_SET);
  GPIO_InitTypeDef gpio = {0};
  gpio.Pin = TM_TIMESTAMP_PIN;
  gpio.Mode = GPIO_MODE_OUTPUT_OD;
  gpio.Pull = GPIO_NOPULL;
  gpio.Speed = GPIO_SPEED_FREQ_LOW;
  HAL_GPIO_Init(TM_TIMESTAMP_GPIO_PORT, &gpio);
}

void tm_port_timestamp(void) {
  HAL_GPIO_WritePin(TM_TIMESTAMP_GPIO_PORT, TM_TIMESTAMP_PIN, GPIO_PIN_RESET); /* the falling edge */
  uint32_t start = DWT->CYCCNT, hold = SystemCoreClock / 1000000u * TM_TIMESTAMP_LOW_US;
  while (DWT->CYCCNT - start < hold) {
  }
  HAL_GPIO_WritePin(TM_TIMESTAMP_GPIO_PORT, TM_TIMESTAMP_PIN, GPIO_PIN_SET);
}
#endif

void tm_port_init(void) {
  HAL_Init();
#ifdef TM_CONSOLE_PRE_INIT
  __HAL_RCC_PWR_CLK_ENABLE();
  TM_CONSOLE_PRE_INIT();
#endif
  TM_CONSOLE_GPIO_CLK_ENABLE();
  TM_CONSOLE_UART_CLK_ENABLE();
  GPIO_InitTypeDef gpio = {0};
  gpio.Pin = TM_CONSOLE_TX_PIN | TM_CONSOLE_RX_PIN;
  gpio.Mode = GPIO_MODE_AF_PP;
  gpio.Pull = GPIO_PULLUP;
  gpio.Speed = GPIO_SPEED_FREQ_VERY_HIGH;
  gpio.Alternate = TM_CONSOLE_AF;
  HAL_GPIO_Init(TM_CONSOLE_GPIO_PORT, &gpio);
  g_uart.Instance = TM_CONSOLE_UART;
  g_uart.Init.BaudRate = TM_BOARD_BAUD;
  g_uart.Init.WordLength = UART_WORDLENGTH_8B;
  g_uart.Init.StopBits = UART_STOPBITS_1;
  g_uart.Init.Parity = UART_PARITY_NONE;
  g_uart.Init.Mode = UART_MODE_TX_RX;
  g_uart.Init.HwFlowCtl = UART_HWCONTROL_NONE;
  g_uart.Init.OverSampling = UART_OVERSAMPLING_16;
  HAL_UART_Init(&g_uart);
  CoreDebug->DEMCR |= CoreDebug_DEMCR_TRCENA_Msk;
  DWT->CYCCNT = 0;
  DWT->CTRL |= DWT_CTRL_CYCCNTENA_Msk;
#ifdef TM_ENERGY_MODE
  timestamp_init();
#endif
}

void tm_port_write(const char *data, size_t len) {
  HAL_UART_Transmit(&g_uart, (uint8_t *)data, (uint16_t)len, HAL_MAX_DELAY);
}

int tm_port_read(void) {
  uint8_t c;
  return HAL_UART_Receive(&g_uart, &c, 1, 0) == HAL_OK ? c : -1;
}

uint32_t tm_port_ticks(void) { return DWT->CYCCNT; }
uint32_t tm_port_ticks_hz(void) { return SystemCoreClock; }
const char *tm_port_tick_unit(void) { return "cycles"; }

void tm_port_exit(int code) {
  (void)code;
  NVIC_SystemReset();
}

int main(void) {
  tm_app_run();
  return 0;
}
